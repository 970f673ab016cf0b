"""Read the catalog: programs, categories, directorates and external bodies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from backend.directory.models import Category, Directorate, ExternalBody, Program, Unit
from backend.errors import InvalidQuery


def list_programs(session: Session) -> list[Program]:
    """Active programs in display order, with their directorate."""
    query = (
        select(Program)
        .where(Program.active.is_(True))
        .options(joinedload(Program.directorate), selectinload(Program.categories))
        .order_by(Program.position, Program.code)
    )
    return list(session.scalars(query))


def list_categories(session: Session, program: str | None = None) -> list[Category]:
    """Active categories, of one program if given; :class:`InvalidQuery` for an unknown program."""
    query = (
        select(Category)
        .join(Category.program)
        .where(Category.active.is_(True), Program.active.is_(True))
        .options(joinedload(Category.program).joinedload(Program.directorate))
        .order_by(Program.position, Category.position, Category.code)
    )
    if program is not None:
        if session.scalar(select(Program.id).where(Program.code == program, Program.active.is_(True))) is None:
            codes = ", ".join(p.code for p in list_programs(session))
            raise InvalidQuery("program", f"unknown program; one of {codes}", code="unknown_program")
        query = query.where(Program.code == program)
    return list(session.scalars(query))


def list_directorates(session: Session) -> list[Directorate]:
    """Directorates with their active units."""
    directorates = list(
        session.scalars(
            select(Directorate)
            .options(selectinload(Directorate.units).joinedload(Unit.zone))
            .order_by(Directorate.code)
        )
    )
    return directorates


def list_external_bodies(session: Session) -> list[ExternalBody]:
    query = (
        select(ExternalBody)
        .where(ExternalBody.active.is_(True))
        .options(joinedload(ExternalBody.zone))
        .order_by(ExternalBody.name)
    )
    return list(session.scalars(query))
