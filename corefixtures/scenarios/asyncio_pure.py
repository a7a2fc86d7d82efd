# Scenario asyncio_pure: the tasks of asyncio_tasks.py on the pure Python asyncio: the
# _asyncio accelerator is kept out (sys.modules["_asyncio"] = None before asyncio is
# imported), as in a Python built without it, so every Task and Future is an instance of
# asyncio.tasks.Task / asyncio.futures.Future, their state in instance attributes (_state,
# _coro, _fut_waiter, _name, _loop) and `await future` a Future.__await__ generator. Same
# truth as asyncio_tasks (its header), taken by asyncio itself. Needs 3.7+ (else SKIP).
from __future__ import print_function
import os
import sys
sys.modules["_asyncio"] = None
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import asyncio_tasks  # noqa: E402

if __name__ == "__main__":
    asyncio_tasks.main(pure=True)
