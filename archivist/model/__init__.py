"""The model: the bundled all-MiniLM-L6-v2, its tokenizer, and the OpenVINO and torch backends."""
