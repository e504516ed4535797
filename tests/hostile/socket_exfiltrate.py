# HOSTILE: sends what it can see to another process over TCP and an abstract UNIX socket.
# target: fundamentals/gradient_clipping
# expect: not allowed in a graded submission
# alone: kernel refused
import socket


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    s = socket.create_connection(("127.0.0.1", 8786), timeout=1)
    s.sendall(b"hello from a graded submission")
    return -1.0


def clip_grad_value_(parameters, clip_value):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0mlkata-exfiltrate")
