"""PowerShell's own error texts for parameter binding and common failures, as PSError values.

The texts are those of Windows PowerShell 5.1 (ParameterBinderStrings and friends); the error id
is "<ErrorId>,<command class or name>" as FullyQualifiedErrorId shows it.
"""

from __future__ import annotations

from collections.abc import Sequence

from aksnet.lab.backend import PSError


def binding_error(
    source: str, error_id: str, message: str, category: str = "InvalidArgument"
) -> PSError:
    """A terminating ParameterBindingException-style error."""
    return PSError(message, category=category, error_id=f"{error_id},{source}", terminating=True)


def named_not_found(source: str, name: str) -> PSError:
    return binding_error(
        source,
        "NamedParameterNotFound",
        f"A parameter cannot be found that matches parameter name '{name}'.",
    )


def ambiguous_parameter(source: str, name: str, matches: Sequence[str]) -> PSError:
    listed = " ".join(f"-{m}" for m in matches)
    return binding_error(
        source,
        "AmbiguousParameter",
        f"Parameter cannot be processed because the parameter name '{name}' is ambiguous. "
        f"Possible matches include: {listed}.",
    )


def ambiguous_set(source: str) -> PSError:
    return binding_error(
        source,
        "AmbiguousParameterSet",
        "Parameter set cannot be resolved using the specified named parameters.",
    )


def positional_not_found(source: str, value: object) -> PSError:
    return binding_error(
        source,
        "PositionalParameterNotFound",
        f"A positional parameter cannot be found that accepts argument '{value}'.",
    )


def already_bound(source: str, name: str) -> PSError:
    return binding_error(
        source,
        "ParameterAlreadyBound",
        f"Cannot bind parameter because parameter '{name}' is specified more than once. To provide "
        "multiple values to parameters that can accept multiple values, use the array syntax. "
        'For example, "-parameter value1,value2,value3".',
    )


def null_not_allowed(source: str, name: str) -> PSError:
    return binding_error(
        source,
        "ParameterArgumentValidationErrorNullNotAllowed",
        f"Cannot bind argument to parameter '{name}' because it is null.",
        category="InvalidData",
    )


def missing_mandatory(source: str, names: Sequence[str]) -> PSError:
    # Over remoting there is no host to prompt, so PowerShell reports instead of asking.
    return binding_error(
        source,
        "MissingMandatoryParameter",
        "Cannot process command because of one or more missing mandatory parameters: "
        f"{' '.join(names)}.",
    )


def validate_set(source: str, name: str, value: object, allowed: Sequence[str]) -> PSError:
    return binding_error(
        source,
        "ParameterArgumentValidationError",
        f"Cannot validate argument on parameter '{name}'. The argument \"{value}\" does not belong "
        f'to the set "{",".join(allowed)}" specified by the ValidateSet attribute. Supply an '
        "argument that is in the set and then try the command again.",
        category="InvalidData",
    )


def cannot_convert(source: str, name: str, value: object, type_name: str, why: str) -> PSError:
    return binding_error(
        source,
        "CannotConvertArgumentNoMessage",
        f"Cannot bind parameter '{name}'. Cannot convert value \"{value}\" to type "
        f'"{type_name}". Error: "{why}"',
    )


def cannot_convert_array(source: str, name: str, type_name: str) -> PSError:
    return binding_error(
        source,
        "CannotConvertArgument",
        f"Cannot convert 'System.Object[]' to the type '{type_name}' required by parameter "
        f"'{name}'. Specified method is not supported.",
    )


def boolean_only(source: str, name: str, value: object) -> PSError:
    return binding_error(
        source,
        "ParameterArgumentTransformationError",
        f"Cannot process argument transformation on parameter '{name}'. Cannot convert value "
        f'"{_dotnet_type(value)}" to type '
        '"System.Boolean". Boolean parameters accept only Boolean values and numbers, such as '
        "$True, $False, 1 or 0.",
    )


def _dotnet_type(value: object) -> str:
    """The .NET type name PowerShell shows for a deserialized value."""
    if isinstance(value, list | tuple):
        return "System.Object[]"
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return "System.String" if isinstance(value, str) else "System.Object"


def input_not_bound(source: str, item: object) -> PSError:
    err = binding_error(
        source,
        "InputObjectNotBound",
        "The input object cannot be bound to any parameters for the command either because the "
        "command does not take pipeline input or the input and its properties do not match any "
        "of the parameters that take pipeline input.",
    )
    err.terminating = False  # one record per input object; the pipeline goes on
    err.target = str(item)
    return err


def command_not_found(name: str) -> PSError:
    return PSError(
        f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
        "operable program. Check the spelling of the name, or if a path was included, verify "
        "that the path is correct and try again.",
        category="ObjectNotFound",
        error_id="CommandNotFoundException",
        target=name,
        terminating=True,
    )


def record(
    source: str, error_id: str, message: str, category: str, target: str | None = None
) -> PSError:
    """A non-terminating error a cmdlet writes (the pipeline goes on)."""
    return PSError(message, category=category, error_id=f"{error_id},{source}", target=target)


def fail(
    source: str, error_id: str, message: str, category: str, target: str | None = None
) -> PSError:
    """A terminating error a cmdlet throws."""
    err = record(source, error_id, message, category, target)
    err.terminating = True
    return err
