"""Pure data: the workspace field table, the models, the create-body builder and the frames."""
