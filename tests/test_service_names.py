"""Service names for port numbers, also when many threads ask at once."""

import threading


def test_service_names_stay_right_when_threads_ask_at_once():
    from scanner import services
    services.service_name.cache_clear()
    ports = list(range(1, 3000))
    found = {}

    def look_up():
        for port in ports:
            found.setdefault(port, set()).add(services.service_name(port))

    workers = [threading.Thread(target=look_up) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for port, names in found.items():
        assert len(names) == 1, (port, names)
        assert all(name == "" or services.SERVICE_NAME.match(name) for name in names)
