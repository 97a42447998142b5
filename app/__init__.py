"""The street app (轻应用): one web application for committees, street offices, departments and the public.

Where things are:

    main.py          create_app(settings): the FastAPI application, its middleware and routers
    config.py        AppSettings: every path and setting from the hub database's folder and the environment;
                     secrets (session key) from the environment or a 0600 file outside the repository
    db/              the app's own operational database (SQLAlchemy 2 models, engine, Alembic upgrade)
    migrations/      Alembic revisions (users, sessions, verifications …; later issues add theirs)
    auth/            passwords (Argon2), sessions (signed cookies), CSRF, login throttling and lockout,
                     principals and the role / street / committee scope every route checks
    published.py     read-only access to the per-role published DuckDB files, new publications picked up atomically
    queries/         what each page reads from a role's publication (findings, rosters, shops, scenarios, catalog)
    audit.py         the audit hook: logins, views of personal data and submissions → the hub's hash-chained log
    intake.py        answers flow back: app verifications and follow-ups → quality.finding_decision /
                     quality.override / scenario.follow_up, through the same validation as returned workbooks
    routes/          one module per area: auth, committee, street, department, scenarios, public, admin
    templates/       Jinja2 pages (base.html is the layout every page extends); static/ holds htmx (vendored)
    cli.py           `civichub serve` and `civichub users add/import/disable`

The app never opens the hub's writer database: master data comes only from the published files, and
answers go back through the app database, taken in by `civichub run` and the Dagster sensor.
"""
