package io.compozy.cache.web.rest;

import io.compozy.cache.web.store.webhook.WebhookIdempotency;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.Json;
import jakarta.json.JsonValue;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.InputStream;

/** {@code POST /api/webhooks/{namespace}}: 202 for a first delivery, 409 for a duplicate within the TTL. */
@Path("webhooks/{namespace}")
@ApplicationScoped
@Produces(MediaType.APPLICATION_JSON)
public class WebhookResource {

    static final String IDEMPOTENCY_HEADER = "X-Idempotency-Key";

    private final WebhookIdempotency webhooks;

    /** For CDI's proxy only. */
    protected WebhookResource() {
        this.webhooks = null;
    }

    @Inject
    public WebhookResource(final WebhookIdempotency webhooks) {
        this.webhooks = webhooks;
    }

    @POST
    public Response deliver(@PathParam("namespace") final String namespace,
            @HeaderParam(IDEMPOTENCY_HEADER) final String header, final InputStream body) {
        // The body is read only when the header does not give the key: it may be anything then.
        JsonValue json = header == null || header.isBlank() ? JsonBody.parse(body) : JsonValue.NULL;
        String key = webhooks.idempotencyKey(header, json);
        if (!webhooks.firstDelivery(namespace, key)) {
            throw new ApiProblem(Response.Status.CONFLICT, "duplicate-delivery", "Duplicate delivery",
                    "Delivery '" + key + "' to namespace '" + namespace + "' was already accepted within the idempotency TTL");
        }
        return Responses.json(Response.Status.ACCEPTED, Json.createObjectBuilder()
                .add("namespace", namespace).add("key", key).add("status", "accepted").build());
    }
}
