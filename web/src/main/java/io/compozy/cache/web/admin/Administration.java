package io.compozy.cache.web.admin;

import io.compozy.cache.web.rest.ApiProblem;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The administrator's door: web.xml asks for a login in {@value #ROLE} on the all-data endpoints
 * (snapshots, every workflow's events), and this refuses them with 503 while no administrator password is
 * configured. server.xml ships none, so a forgotten setting locks the door instead of leaving a guessable
 * one (an unset variable would otherwise reach the registry as the literal text {@code ${admin.password}}).
 */
@ApplicationScoped
public class Administration {

    public static final String ROLE = "admin";
    /** The server.xml variable (env ADMIN_PASSWORD) holding the administrator's password. */
    public static final String ADMIN_PASSWORD_KEY = "admin.password";

    private final Optional<String> adminPassword;
    /** How the current request logged in (HttpServletRequest.getAuthType). */
    private final Supplier<String> authType;

    /** For CDI's proxy only. */
    protected Administration() {
        this(Optional.empty(), (Supplier<String>) () -> null);
    }

    @Inject
    public Administration(@ConfigProperty(name = ADMIN_PASSWORD_KEY) final Optional<String> adminPassword,
                          final jakarta.inject.Provider<HttpServletRequest> request) {
        this(adminPassword, () -> request.get().getAuthType());
    }

    public Administration(final Optional<String> adminPassword, final Supplier<String> authType) {
        this.adminPassword = adminPassword;
        this.authType = authType;
    }

    /**
     * Throws a 503 problem unless an administrator password is configured, for Basic logins: a bearer
     * token's admin (its groups claim) needs none.
     */
    public void requireConfigured() {
        String how = authType.get();
        boolean basic = how == null || HttpServletRequest.BASIC_AUTH.equals(how);
        if (basic && adminPassword.filter(p -> !p.isBlank() && !p.startsWith("${")).isEmpty()) {
            throw new ApiProblem(Response.Status.SERVICE_UNAVAILABLE, "administration-disabled",
                    "Administration disabled", "No administrator password is configured; set ADMIN_PASSWORD"
                    + " (the " + ADMIN_PASSWORD_KEY + " variable) and restart the server, see docs/security.md");
        }
    }
}
