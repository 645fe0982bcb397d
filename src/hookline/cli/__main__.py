"""``python -m hookline.cli``."""

from hookline.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
