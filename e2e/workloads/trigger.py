# Shared by the python workloads: wait for /tmp/go (polled with sleep, no exec).
import os
import time


def wait_for_trigger(path="/tmp/go"):
    while not os.path.exists(path):
        time.sleep(0.1)


def idle():
    while True:
        time.sleep(3600)
