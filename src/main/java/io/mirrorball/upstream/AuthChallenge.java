package io.mirrorball.upstream;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235): a scheme and its parameters, such as
 * {@code Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"}.
 * The scheme is lower-cased; parameter names are lower-cased, values unquoted.
 */
record AuthChallenge(String scheme, Map<String, String> params) {
    AuthChallenge {
        scheme = scheme.toLowerCase(Locale.ROOT);
        params = Map.copyOf(params);
    }

    boolean isBearer() {
        return scheme.equals("bearer");
    }

    boolean isBasic() {
        return scheme.equals("basic");
    }

    String param(String name) {
        return params.get(name);
    }

    /** Parses every challenge of a header value; malformed parts are skipped, never thrown. */
    static List<AuthChallenge> parse(String header) {
        List<AuthChallenge> challenges = new ArrayList<>();
        if (header == null) {
            return challenges;
        }
        int i = 0;
        int n = header.length();
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (i < n) {
            i = skip(header, i, " \t,");
            if (i >= n) {
                break;
            }
            int tokenEnd = i;
            while (tokenEnd < n && " \t,=".indexOf(header.charAt(tokenEnd)) < 0) {
                tokenEnd++;
            }
            String token = header.substring(i, tokenEnd);
            int afterToken = skip(header, tokenEnd, " \t");
            if (afterToken < n && header.charAt(afterToken) == '=' && scheme != null) {
                // name=value parameter of the current challenge
                int v = skip(header, afterToken + 1, " \t");
                StringBuilder value = new StringBuilder();
                if (v < n && header.charAt(v) == '"') {
                    v++;
                    while (v < n && header.charAt(v) != '"') {
                        if (header.charAt(v) == '\\' && v + 1 < n) {
                            v++;
                        }
                        value.append(header.charAt(v++));
                    }
                    v++;
                } else {
                    while (v < n && " \t,".indexOf(header.charAt(v)) < 0) {
                        value.append(header.charAt(v++));
                    }
                }
                params.put(token.toLowerCase(Locale.ROOT), value.toString());
                i = v;
            } else {
                if (scheme != null) {
                    challenges.add(new AuthChallenge(scheme, params));
                }
                scheme = token;
                params = new LinkedHashMap<>();
                i = tokenEnd;
            }
        }
        if (scheme != null) {
            challenges.add(new AuthChallenge(scheme, params));
        }
        return challenges;
    }

    private static int skip(String s, int i, String chars) {
        while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        return i;
    }
}
