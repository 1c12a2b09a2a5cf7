"""`python -m archivist` runs the command-line interface."""

import sys

if sys.argv[1:2] == ["search"]:
    # Before the imports below: the model loads while they run (Embedder.load_in_background).
    from archivist.model.embedding import shared_embedder

    shared_embedder().load_in_background()

from archivist.cli import main

sys.exit(main())
