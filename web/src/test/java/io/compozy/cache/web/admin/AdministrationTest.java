package io.compozy.cache.web.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.compozy.cache.web.rest.ApiProblem;
import io.compozy.cache.web.rest.ProblemMapper;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.ws.rs.core.Response;
import java.io.StringReader;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Administration without a password answers like every other error of the API: problem+json. */
class AdministrationTest {

    @Test
    void withoutAPasswordTheAdminEndpointsAnswer503ProblemJsonNamingTheVariable() {
        for (Optional<String> unset : java.util.List.of(Optional.<String>empty(), Optional.of(""),
                Optional.of("${admin.password}"))) {
            ApiProblem problem = catchThrowableOfType(ApiProblem.class,
                    () -> new Administration(unset, () -> "BASIC").requireConfigured());
            Response response = new ProblemMapper().toResponse(problem);

            assertThat(response.getStatus()).isEqualTo(503);
            assertThat(response.getMediaType().toString()).isEqualTo(ProblemMapper.PROBLEM_JSON);
            JsonObject body = Json.createReader(new StringReader((String) response.getEntity())).readObject();
            assertThat(body.getString("type")).isEqualTo("urn:compozy:cache:problem:administration-disabled");
            assertThat(body.getInt("status")).isEqualTo(503);
            assertThat(body.getString("detail")).contains("ADMIN_PASSWORD").contains(Administration.ADMIN_PASSWORD_KEY);
        }
    }

    @Test
    void withAPasswordNothingIsRefused() {
        new Administration(Optional.of("s3cret-of-the-operator"), () -> "BASIC").requireConfigured();
    }

    @Test
    void aBearerTokensAdministratorNeedsNoPassword() {
        new Administration(Optional.empty(), () -> "MP-JWT").requireConfigured();
    }
}
