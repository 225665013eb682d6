package io.compozy.cache.web.store;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/**
 * The stores' smoke set over TLS with a client certificate (distributed mode on a Redis with
 * {@code tls-auth-clients yes}): plain commands and scans (memory), Lua scripts and lists (event stream),
 * locks, and pub/sub, which Redisson runs on connections of its own. The full suites run on the other
 * two backends; TLS changes the transport, not the commands.
 */
@Backends.OnTls
@DisplayName("stores over TLS")
class TlsBackendTest {

    @Nested
    class Memory extends MemoryStoreContract {
    }

    @Nested
    class EventStream extends ExecutionEventStreamContract {
    }

    @Nested
    class Locks extends LockManagerContract {
    }

    @Nested
    class Notifications extends NotificationSystemContract {
    }
}
