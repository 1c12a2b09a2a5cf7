"""`python -m archivist` runs the command-line interface."""

import os
import sys

ONE_SHOT = sys.argv[1:2] == ["search"]  # reads the index, prints, writes nothing

if ONE_SHOT:
    # Before the imports below: the model loads while they run (Embedder.load_in_background).
    from archivist.model.embedding import shared_embedder

    shared_embedder().load_in_background()

from archivist.cli import main

status = main()
if ONE_SHOT:
    # A search has written nothing but its output: once that is flushed, the interpreter's
    # teardown (freeing the compiled model, the runtime and every module: about 0.1 s) has
    # nothing left to save, so the process ends without it.
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(status)
sys.exit(status)
