"""Ticketed events: a host sets price, seats and sale window; users read availability."""

from fastapi import APIRouter

router = APIRouter(tags=["events"])
