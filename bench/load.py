"""A fixed number of HTTP requests from a few keep-alive clients, for bench/instructions.sh.

    python3 bench/load.py PORT REQUESTS CLIENTS PATH [METHOD]

PATH "rotate" spreads the requests over /obj-0 ... /obj-999. Every answer must be 200.
"""
import http.client
import sys
import threading


def main():
    port, total, clients = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    path = sys.argv[4]
    method = sys.argv[5] if len(sys.argv) > 5 else "POST"
    failures = []

    def client(index):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(total // clients):
            target = f"/obj-{(index * 1000 + i) % 1000}" if path == "rotate" else path
            conn.request(method, target, body=b"" if method == "POST" else None)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(f"{method} {target}: {response.status}")
                return

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        sys.exit("; ".join(failures[:5]))


if __name__ == "__main__":
    main()
