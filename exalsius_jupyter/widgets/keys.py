"""EscapeKey: an invisible anywidget that reports Escape pressed in one of a container's items.

ipywidgets' views report no key presses to the kernel (8.1); this small front-end does, for the
panel's inline questions (#17.4). It imports anywidget, so only a panel imports it: neither
``import exalsius_jupyter`` nor ``%load_ext exalsius_jupyter`` do. Without a front end
(nbconvert, a terminal) nothing renders it and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as widgets
import traitlets

ESCAPE = "Escape"

# One keydown listener per view, in the capture phase (before the notebook's own shortcuts): for
# Escape whose target sits in an `item` of the element's closest `within` ancestor, an item that
# holds a `when` element (an enabled Cancel), it sends {key, index} (the item's position among
# the container's items) and keeps the page (Lab, Notebook 7) from acting on the key too.
# Looked up at key time: at render the element is not attached yet, and items come and go.
ESM = """
export default {
  render({ model, el }) {
    el.style.display = "none";
    const onKey = (event) => {
      if (event.key !== "Escape" || event.isComposing || !el.isConnected) return;
      const box = el.closest(model.get("within"));
      const item = event.target instanceof Element ? event.target.closest(model.get("item")) : null;
      if (!box || !item || !box.contains(item) || !item.querySelector(model.get("when"))) return;
      const index = [...box.querySelectorAll(model.get("item"))].indexOf(item);
      event.preventDefault();
      event.stopPropagation();
      model.send({ key: "Escape", index });
    };
    document.addEventListener("keydown", onKey, true);
    return () => document.removeEventListener("keydown", onKey, true);
  },
};
"""


class EscapeKey(anywidget.AnyWidget):
    """Calls ``on_escape(index)`` when Escape is pressed in the ``index``-th ``item`` element
    inside the closest ``within`` element, if that item holds a ``when`` element.

    Args:
        within: CSS selector of the container (an ancestor of this widget's view).
        item: CSS selector of the container's items, counted in page order from 0.
        when: CSS selector an item must contain for Escape to count there.
        on_escape: called on the kernel with the item's index for each Escape reported.
    """

    _esm = ESM
    within = traitlets.Unicode("").tag(sync=True)
    item = traitlets.Unicode("").tag(sync=True)
    when = traitlets.Unicode("*").tag(sync=True)

    def __init__(self, *, within: str, item: str, when: str,
                 on_escape: Callable[[int], None]) -> None:
        super().__init__(within=within, item=item, when=when,
                         layout=widgets.Layout(display="none"))
        self._on_escape = on_escape
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("key") != ESCAPE:
            return
        index = content.get("index")
        if isinstance(index, int) and not isinstance(index, bool) and index >= 0:
            self._on_escape(index)


__all__ = ["ESCAPE", "EscapeKey"]
