# Typical mistake: no except for socket.gaierror, so a bad name ends the program.
import socket


def resolve(host):
    return socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][4][0], None
