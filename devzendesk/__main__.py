from __future__ import annotations

from devzendesk.cli import main

raise SystemExit(main())
