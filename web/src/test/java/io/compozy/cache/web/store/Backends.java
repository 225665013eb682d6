package io.compozy.cache.web.store;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives the contracts their backend: {@code @OnEmbedded}, {@code @OnExternal}, {@code @OnTls}, {@code @OnCluster}
 * or {@code @OnSentinel} on a test class makes
 * a {@link TestBackend} parameter resolve to that backend, started once per test run and closed at its end.
 */
public final class Backends {

    private Backends() {
    }

    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(EmbeddedResolver.class)
    public @interface OnEmbedded {
    }

    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(ExternalResolver.class)
    public @interface OnExternal {
    }

    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(ClusterResolver.class)
    public @interface OnCluster {
    }

    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(SentinelResolver.class)
    public @interface OnSentinel {
    }

    static final class ClusterResolver extends Resolver {
        ClusterResolver() {
            super("cluster", TestBackend.Topology::cluster);
        }
    }

    static final class SentinelResolver extends Resolver {
        SentinelResolver() {
            super("sentinel", TestBackend.Topology::sentinel);
        }
    }

    @Target(ElementType.TYPE)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(TlsResolver.class)
    public @interface OnTls {
    }

    static final class TlsResolver extends Resolver {
        TlsResolver() {
            super("tls", TestBackend.Tls::new);
        }
    }

    static final class EmbeddedResolver extends Resolver {
        EmbeddedResolver() {
            super("embedded", TestBackend.Embedded::new);
        }
    }

    static final class ExternalResolver extends Resolver {
        ExternalResolver() {
            super("external", TestBackend.External::new);
        }
    }

    abstract static class Resolver implements ParameterResolver {

        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(Backends.class);

        private final String name;
        private final Supplier<TestBackend> start;

        Resolver(final String name, final Supplier<TestBackend> start) {
            this.name = name;
            this.start = start;
        }

        @Override
        public boolean supportsParameter(final ParameterContext parameter, final ExtensionContext context) {
            return parameter.getParameter().getType() == TestBackend.class;
        }

        @Override
        public Object resolveParameter(final ParameterContext parameter, final ExtensionContext context) {
            // The root store lives for the whole run and closes the backend at its end.
            return context.getRoot().getStore(NAMESPACE).getOrComputeIfAbsent(name, key -> start.get(), TestBackend.class);
        }
    }
}
