package io.compozy.cache.adapter;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import org.redisson.api.RedissonClient;

/**
 * The view of the shared RedissonClient that applications may keep: every call goes to the client,
 * except {@code shutdown}, which only the adapter may do.
 */
final class SharedClientGuard implements InvocationHandler {

    private final RedissonClient client;

    private SharedClientGuard(final RedissonClient client) {
        this.client = client;
    }

    static RedissonClient guard(final RedissonClient client) {
        return (RedissonClient) Proxy.newProxyInstance(RedissonClient.class.getClassLoader(),
                new Class<?>[] {RedissonClient.class}, new SharedClientGuard(client));
    }

    static UnsupportedOperationException shutdownRefused() {
        return new UnsupportedOperationException("The shared RedissonClient belongs to the Compozy cache"
                + " resource adapter and stops with it; close() the connection instead");
    }

    @Override
    public Object invoke(final Object self, final Method method, final Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class) {
            return switch (method.getName()) {
                case "equals" -> self == args[0];
                case "hashCode" -> System.identityHashCode(self);
                default -> "SharedRedissonClient[" + client.getId() + "]";
            };
        }
        if ("shutdown".equals(method.getName())) {
            throw shutdownRefused();
        }
        try {
            return method.invoke(client, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
