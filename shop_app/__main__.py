from shop_app.cli import main

raise SystemExit(main())
