package io.compozy.cache.web.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The rules ApiAccessGuard applies, one by one. */
class ApiAccessTest {

    private final ApiAccess open = ApiAccess.of(Optional.empty(), Optional.of(" cache.internal , Proxy.Example "));

    @Test
    void openIsTheDefaultLoginTheOtherValueAndAnythingElseIsRefusedNamingTheKey() {
        assertThat(open.open()).isTrue();
        assertThat(ApiAccess.of(Optional.of("login"), Optional.empty()).open()).isFalse();
        assertThatThrownBy(() -> ApiAccess.of(Optional.of("jwt"), Optional.empty()))
                .hasMessageContaining(ApiAccess.ACCESS_KEY).hasMessageContaining("'jwt'");
    }

    @Test
    void onlyLoopbackLiteralsAreLoopbackAndNamesAreNeverLookedUp() {
        assertThat(ApiAccess.isLoopback("127.0.0.1")).isTrue();
        assertThat(ApiAccess.isLoopback("127.0.0.2")).isTrue();
        assertThat(ApiAccess.isLoopback("0:0:0:0:0:0:0:1")).isTrue();
        assertThat(ApiAccess.isLoopback("10.1.2.3")).isFalse();
        assertThat(ApiAccess.isLoopback("localhost")).as("a name, not an address").isFalse();
        assertThat(ApiAccess.isLoopback(null)).isFalse();
    }

    @Test
    void aHostHeaderMustNameThisServerAsALoopbackClientWould() {
        assertThat(open.hostAllowed("localhost:9080")).isTrue();
        assertThat(open.hostAllowed("LOCALHOST")).isTrue();
        assertThat(open.hostAllowed("127.0.0.1:9080")).isTrue();
        assertThat(open.hostAllowed("[::1]:9080")).isTrue();
        assertThat(open.hostAllowed("cache.internal:9080")).as("named in api.allowed_hosts").isTrue();
        assertThat(open.hostAllowed("proxy.example")).isTrue();
        // DNS rebinding: a page's own name that resolves to 127.0.0.1
        assertThat(open.hostAllowed("attacker.example:9080")).isFalse();
        assertThat(open.hostAllowed("localhost.attacker.example")).isFalse();
        assertThat(open.hostAllowed("10.0.0.5:9080")).isFalse();
        assertThat(open.hostAllowed("")).isFalse();
        assertThat(open.hostAllowed(null)).isFalse();
        assertThat(open.hostAllowed("bad host^")).isFalse();
    }

    @Test
    void aChangeFromAnotherSitesPageIsCrossSiteAndOneFromCurlIsNot() {
        assertThat(ApiAccess.crossSite("localhost:9080", null, null)).as("curl, an application").isFalse();
        assertThat(ApiAccess.crossSite("localhost:9080", "http://localhost:9080", "same-origin")).isFalse();
        assertThat(ApiAccess.crossSite("localhost:9080", null, "none")).as("typed in the address bar").isFalse();
        assertThat(ApiAccess.crossSite("localhost:9080", "https://evil.example", null)).isTrue();
        assertThat(ApiAccess.crossSite("localhost:9080", "http://localhost:3000", null)).as("another port").isTrue();
        assertThat(ApiAccess.crossSite("localhost:9080", "null", null)).as("a sandboxed page").isTrue();
        assertThat(ApiAccess.crossSite("localhost:9080", null, "cross-site")).isTrue();
        assertThat(ApiAccess.crossSite("localhost:9080", null, "same-site")).isTrue();
    }

    @Test
    void theMediaTypesAPlainFormPostsAreFormTypes() {
        assertThat(ApiAccess.formType("application/x-www-form-urlencoded")).isTrue();
        assertThat(ApiAccess.formType("multipart/form-data; boundary=x")).isTrue();
        assertThat(ApiAccess.formType("Text/Plain;charset=UTF-8")).isTrue();
        assertThat(ApiAccess.formType("application/octet-stream")).isFalse();
        assertThat(ApiAccess.formType("application/json")).isFalse();
        assertThat(ApiAccess.formType(null)).isFalse();
    }

    @Test
    void theAdministrativePathsAreTheOnesWebXmlKeepsForTheAdmin() {
        assertThat(AdminAudit.isAdministrative("admin/snapshots")).isTrue();
        assertThat(AdminAudit.isAdministrative("/admin/snapshots/3/restore")).isTrue();
        assertThat(AdminAudit.isAdministrative("events/workflows")).isTrue();
        assertThat(AdminAudit.isAdministrative("events/workflows/w1")).isFalse();
        assertThat(AdminAudit.isAdministrative("admin/status")).isFalse();
    }
}
