"""One Redis client per process, for the arq queue, sessions and rate limits alike. Created
without connecting, so that the API starts (and says so on /health/ready) while Redis is down."""

from __future__ import annotations

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

QUEUE_NAME = "crm:queue"


def connect_redis(url: str) -> ArqRedis:
    pool = ConnectionPool.from_url(url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=30)
    return ArqRedis(pool, default_queue_name=QUEUE_NAME)
