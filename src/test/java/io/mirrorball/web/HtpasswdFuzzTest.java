package io.mirrorball.web;

import static io.mirrorball.testing.FuzzInput.afterFirstLine;
import static io.mirrorball.testing.FuzzInput.firstLine;
import static io.mirrorball.testing.FuzzInput.text;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An htpasswd file and the Basic credentials checked against it. Input: {@code user:password} on
 * the first line, the file after it (seeds in HtpasswdFuzzTestInputs/parseAndVerify_anyFile).
 */
final class HtpasswdFuzzTest {
    /** bcrypt costs over 6 take too long for a fuzzer (cost 14 is a second): such inputs are skipped. */
    private static final Pattern COST = Pattern.compile("\\$2[aby]\\$([0-9]{2})\\$");

    @FuzzTest
    void parseAndVerify_anyFile(byte[] input) {
        String credentials = firstLine(input);
        String file = text(afterFirstLine(input));
        Matcher cost = COST.matcher(file);
        while (cost.find()) {
            if (Integer.parseInt(cost.group(1)) > 6) {
                return;
            }
        }
        List<String> lines = file.lines().toList();
        Htpasswd htpasswd = Htpasswd.parse(lines, "fuzz");
        long relevant = lines.stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).count();
        assertTrue(htpasswd.size() + htpasswd.problems().size() <= relevant);

        int colon = credentials.indexOf(':');
        String user = colon < 0 ? credentials : credentials.substring(0, colon);
        String password = colon < 0 ? "" : credentials.substring(colon + 1);
        boolean verified = htpasswd.verify(user, password);
        if (lines.stream().noneMatch(l -> l.strip().startsWith(user + ":"))) {
            assertFalse(verified, user);
        }
    }
}
