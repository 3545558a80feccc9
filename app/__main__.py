"""Command line: `python -m app create-admin EMAIL --password P`, `python -m app seed-demo`,
`python -m app worker [--once] [--interval SECONDS]`, `python -m app refresh-barometer`,
`python -m app welcome URL` (what scripts/serve prints last)."""

import argparse
import logging
import sys

from sqlmodel import Session

from app.accounts import service as accounts
from app.config import get_settings
from app.db import make_engine, utcnow
from app.errors import DomainError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="STEM portal commands")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser(
        "create-admin", help="create an administrator, or reset their password"
    )
    admin.add_argument("email")
    admin.add_argument("--password", required=True)
    admin.add_argument("--name", default="Administrator")
    commands.add_parser("seed-demo", help="add the demo organisations and one account per role")
    welcome = commands.add_parser("welcome", help="print where the portal is and the demo accounts")
    welcome.add_argument("url")
    worker = commands.add_parser("worker", help="send e-mail from the outbox; expire holds; remind")
    worker.add_argument("--once", action="store_true", help="run every job once and stop")
    worker.add_argument("--interval", type=float, default=5.0, help="seconds between passes")
    commands.add_parser(
        "refresh-barometer", help="count the barometer's stored figures anew, now (they are cached)"
    )
    args = parser.parse_args(argv)

    if args.command == "welcome":
        from app import demo

        print(demo.welcome(args.url, mail_to_log=get_settings().mail_to_log))
        return 0
    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=settings.database_pool_size)
    if args.command == "worker":
        from app.worker import run_forever, run_once

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if args.once:
            print(run_once(engine, settings, now=utcnow()))
        else:
            run_forever(engine, settings, interval=args.interval)
        return 0
    with Session(engine) as db:
        if args.command == "create-admin":
            if len(args.password) < 10:
                print("The password must have at least 10 characters.", file=sys.stderr)
                return 2
            try:
                user, created = accounts.ensure_admin(
                    db, email=args.email, name=args.name, password=args.password
                )
            except DomainError as error:
                print(error.message, file=sys.stderr)
                return 2
            print(f"{'Created' if created else 'Updated'} administrator {user.email}")
        elif args.command == "seed-demo":
            from app import demo

            created = demo.seed(db, now=utcnow())
            print("Demo data added." if created else "Demo data was already there.")
            for role, email in demo.ACCOUNTS.items():
                print(f"  {role:<12} {email:<32} password: {demo.PASSWORD}")
        elif args.command == "refresh-barometer":
            from app.barometer import service as barometer

            print(f"Counted {barometer.refresh(db, now=utcnow())} sets of barometer figures anew.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
