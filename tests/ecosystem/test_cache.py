"""kitura.cache: KituraCache's set/get/remove, TTLs and statistics, and use from a Router."""
from __future__ import annotations

import gc
import json
import threading
import time
import weakref

from kitura.cache import KituraCache, Statistics
from kitura.router import Router


def test_set_get_remove_and_statistics():
    cache = KituraCache(check_frequency=0)
    cache.set_object("v1", for_key="k1")
    cache.set_object({"a": 1}, for_key=2)
    cache.set_object("v1b", for_key="k1")
    assert cache.object(for_key="k1") == "v1b" and cache.object(for_key=2) == {"a": 1}
    assert cache.object(for_key="nope") is None
    assert cache.statistics == Statistics(hits=2, misses=1, number_of_keys=2)
    assert sorted(map(str, cache.keys())) == ["2", "k1"]
    cache.remove_object(for_key="k1")
    cache.remove_objects(for_keys=[2, "absent"])
    assert cache.statistics.number_of_keys == 0 and cache.keys() == []
    cache.set_object(1, for_key="a")
    cache.remove_all_objects()
    assert cache.statistics.number_of_keys == 0 and cache.statistics.hits == 2
    cache.flush()
    assert cache.statistics == Statistics()


def test_ttls():
    now = [0.0]
    cache = KituraCache(default_ttl=10, check_frequency=0, clock=lambda: now[0])
    cache.set_object("default", for_key="d")
    cache.set_object("short", for_key="s", with_ttl=1)
    cache.set_object("forever", for_key="f", with_ttl=0)
    now[0] = 2
    assert cache.object(for_key="s") is None and cache.object(for_key="d") == "default"
    assert cache.set_ttl(100, for_key="d") and not cache.set_ttl(100, for_key="s")
    now[0] = 50
    assert cache.object(for_key="d") == "default"
    assert sorted(cache.keys()) == ["d", "f"] and cache.statistics.number_of_keys == 2
    now[0] = 1e9
    assert cache.object(for_key="f") == "forever" and cache.object(for_key="d") is None


def test_background_check_drops_expired_entries_and_does_not_keep_the_cache_alive():
    cache = KituraCache(default_ttl=0.01, check_frequency=0.02)
    cache.set_object(1, for_key="x")
    done = threading.Event()
    for _ in range(200):
        if cache.statistics.number_of_keys == 0:
            done.set()
            break
        done.wait(0.01)
    assert done.is_set()
    ref = weakref.ref(cache)
    del cache
    for _ in range(200):                 # a tick running now holds the cache until it returns
        gc.collect()
        if ref() is None:
            break
        time.sleep(0.01)
    assert ref() is None


def test_a_cache_in_front_of_a_slow_lookup(serve):
    cache = KituraCache(default_ttl=60, check_frequency=0)
    lookups = []

    def lookup(user_id: str) -> dict:
        lookups.append(user_id)
        return {"id": user_id}

    router = Router()

    @router.get("/users/:id")
    def user(request, response, next):
        user_id = request.parameters["id"]
        found = cache.object(for_key=user_id)
        if found is None:
            found = lookup(user_id)
            cache.set_object(found, for_key=user_id)
        response.send(json=found).end()

    client = serve(router)
    for _ in range(3):
        assert json.loads(client.get("/users/7").body) == {"id": "7"}
    assert lookups == ["7"] and cache.statistics.hits == 2 and cache.statistics.misses == 1
