from __future__ import annotations

from devline.cli import main

raise SystemExit(main())
