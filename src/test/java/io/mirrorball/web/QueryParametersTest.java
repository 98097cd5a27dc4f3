package io.mirrorball.web;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

final class QueryParametersTest {

    @ParameterizedTest
    @CsvSource(value = {
            "digest=sha256:ab | digest | sha256:ab",
            "digest=sha256%3Aab | digest | sha256:ab",
            "mount=x&from=a%2Fb | from | a/b",
            "from=a&from=b | from | a",
            "n=10&last=x | last | x",
            "last | last | ''",
            "last= | last | ''",
            "a+b=c+d | a b | c d",
            "artifactType=application%2Fvnd.x%2Bjson | artifactType | application/vnd.x+json",
    }, delimiter = '|')
    void first_present(String query, String name, String value) {
        assertEquals(Optional.of(value), QueryParameters.first(query, name));
    }

    @ParameterizedTest
    @CsvSource(value = {
            "'' | digest",
            "digestx=1 | digest",
            "%zz=1 | digest",
            "digest=%zz | digest",
            "digest=%C3 | digest",
            "DIGEST=1 | digest",
    }, delimiter = '|')
    void first_absentOrMalformed_empty(String query, String name) {
        assertEquals(Optional.empty(), QueryParameters.first(query, name));
    }
}
