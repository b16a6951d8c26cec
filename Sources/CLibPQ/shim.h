#ifndef ASHRAI_CLIBPQ_SHIM_H
#define ASHRAI_CLIBPQ_SHIM_H
#include <libpq-fe.h>
/* epoll, for the reactor that waits on libpq's sockets (Postgres/PostgresReactor.swift). */
#include <sys/epoll.h>
#endif
