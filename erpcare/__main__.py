from erpcare.cli import main

raise SystemExit(main())
