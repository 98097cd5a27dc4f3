package io.mirrorball.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code --output table|json} option, shared by the commands that print a result ({@code migrate},
 * {@code gc}, {@code cache ls}, {@code cache prune}): a table for people, or one JSON document for scripts.
 */
final class OutputOption {
    @Option(names = "--output", paramLabel = "table|json", defaultValue = "table",
            description = "result format (default: ${DEFAULT-VALUE})")
    String output;

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /**
     * Whether the result is to be JSON; throws a ParameterException (a usage error, exit 2) when the
     * value is neither table nor json, so a command calls it before it does any work.
     */
    boolean json() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new ParameterException(mixee.commandLine(), "--output must be table or json, not '" + output + "'");
        }
        return output.equals("json");
    }
}
