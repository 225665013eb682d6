package io.compozy.cache.web.observe;

import jakarta.enterprise.util.Nonbinding;
import jakarta.interceptor.InterceptorBinding;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Counts and times a store operation as {@code compozy_cache_operations_total{backend,operation,status}} and
 * {@code compozy_cache_operation_duration_seconds{backend,operation}}. The status is {@code ok}, the domain
 * outcome of a {@link io.compozy.cache.web.store.StoreException} ({@code mismatch}, {@code duplicate},
 * {@code not_found}, ...), {@link #absent()} when the method answers "nothing" (an empty Optional, false or
 * null), or {@code error} for any other failure.
 */
@Inherited
@InterceptorBinding
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Metered {

    /** The operation label, {@code <store>_<operation>} in snake case, for example {@code resource_put_if_match}. */
    @Nonbinding
    String value() default "";

    /**
     * The status when the method returns an empty Optional, {@code false} or null (for example
     * {@code duplicate} for a repeated webhook, {@code held} for a lock someone else has); empty to count
     * such answers as {@code ok}.
     */
    @Nonbinding
    String absent() default "";
}
