package io.compozy.cache.web.rest;

import jakarta.json.JsonValue;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** JSON responses written as text, so that no JSON provider choice can change their bytes. */
final class Responses {

    private Responses() {
    }

    static Response json(final JsonValue body) {
        return json(Response.Status.OK, body);
    }

    static Response json(final Response.Status status, final JsonValue body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body.toString()).build();
    }
}
