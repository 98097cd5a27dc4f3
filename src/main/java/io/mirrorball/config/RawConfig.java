package io.mirrorball.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;

/**
 * The configuration as bound by Jackson from the merged tree (defaults, file, environment; see
 * {@link ConfigTree}), before validation: every value is the text that was written, so that
 * {@link ConfigLoader} can refuse it with a message naming its key. YAML names are kebab-case
 * ({@code idle-timeout} is {@code idleTimeout}).
 */
@JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
record RawConfig(Http http, Storage storage, Upstream upstream, List<Upstream> upstreams, Cache cache, Auth auth,
                 Metrics metrics, Log log) {

    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Http(String addr, String idleTimeout, String maxThreads, String maxConnectionsPerClient,
                String minDataRate, String minDataRateWindow, Tls tls) {
    }

    record Tls(String certificate, String key) {
    }

    record Storage(Ipfs ipfs, Uploads uploads) {
    }

    /** {@code clone} is a name records may not use: it binds as {@code cloneEnabled}. */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Ipfs(String node, String nodeAuth, Embedded embedded, String mfsRoot,
                @JsonProperty("clone") String cloneEnabled, String cloneTimeout, String maxCloneWaits,
                String kuboGc) {
    }

    /** {@code gateways} is the list joined with commas, as the environment spells it. */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Embedded(String path, String gateways, String gatewayTimeout) {
    }

    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Uploads(String path, String expireAfter) {
    }

    /** The default upstream ({@code name} "": it comes from the URL) or an entry of {@code upstreams}. */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Upstream(String name, String url, String username, String password, String tagTtl, String mirror,
                    String publish, String redirectAllow) {
    }

    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Cache(String maxSize, String maxIdle) {
    }

    /** {@code admins} is the list joined with commas; so are the lists inside the entries. */
    @JsonNaming(PropertyNamingStrategies.KebabCaseStrategy.class)
    record Auth(Htpasswd htpasswd, Token token, String anonymousPull, String admins, List<Group> groups,
                List<Access> access) {
    }

    record Token(String realm, String service, String issuer, String rootcertbundle) {
    }

    record Group(String name, String members) {
    }

    record Access(String prefix, String pull, String push, String delete) {
    }

    record Htpasswd(String path) {
    }

    record Metrics(String path) {
    }

    record Log(String level, String format) {
    }
}
