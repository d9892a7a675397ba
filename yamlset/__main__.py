from __future__ import annotations

from yamlset.cli import main

main()
