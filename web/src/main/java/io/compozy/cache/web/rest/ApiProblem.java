package io.compozy.cache.web.rest;

import jakarta.ws.rs.core.Response;

/** A request the API refuses, with the status and a message the caller can act on (never a secret). */
public class ApiProblem extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int status;
    private final String slug;
    private final String title;

    public ApiProblem(final Response.Status status, final String slug, final String title, final String detail) {
        super(detail);
        this.status = status.getStatusCode();
        this.slug = slug;
        this.title = title;
    }

    public static ApiProblem badRequest(final String detail) {
        return new ApiProblem(Response.Status.BAD_REQUEST, "invalid-request", "Invalid request", detail);
    }

    public int status() {
        return status;
    }

    public String slug() {
        return slug;
    }

    public String title() {
        return title;
    }
}
