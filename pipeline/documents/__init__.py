"""Documents: the Word and Excel files the pipeline writes, and their PDF conversion."""
