"""``python -m hookline``: the same CLI as the ``hookline`` script."""

from hookline.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
