"""The binder answers like PowerShell: exact texts and FullyQualifiedErrorIds."""

from __future__ import annotations

import pytest

from aksnet.lab.backend import CommandCall
from aksnet.lab.hyperv import HyperVMachine
from aksnet.lab.hyperv.binder import bind
from aksnet.lab.hyperv.contracts import default_contracts

from .conftest import GB, call, run, terminating

NEW_VM = "Microsoft.HyperV.PowerShell.Commands.NewVM"


def contract(name: str):
    return default_contracts()[name.lower()]


def test_unknown_parameter_is_named_parameter_not_found(hv: HyperVMachine) -> None:
    err = terminating(hv, call("New-VM", Nmae="x"))
    assert err.message == "A parameter cannot be found that matches parameter name 'Nmae'."
    assert err.error_id == f"NamedParameterNotFound,{NEW_VM}"
    assert err.category == "InvalidArgument"


def test_names_are_case_insensitive_and_aliases_work() -> None:
    b = bind(contract("Get-VM"), (("vmname", "a"),))  # VMName is an alias of -Name
    assert b.values["Name"] == ["a"]
    b = bind(
        contract("Set-VMNetworkAdapterVlan"), (("VMName", "a"), ("a", True), ("AccessVlanId", 5))
    )
    assert b.values["Access"] is True and b.values["VlanId"] == 5


def test_unambiguous_prefix_binds_and_ambiguous_prefix_lists_matches(hv: HyperVMachine) -> None:
    assert bind(contract("New-VM"), (("MemoryStart", 1),)).values["MemoryStartupBytes"] == 1
    err = terminating(hv, call("New-VM", N="x"))
    assert err.message == (
        "Parameter cannot be processed because the parameter name 'N' is ambiguous. "
        "Possible matches include: -Name -NewVHDPath -NewVHDSizeBytes -NoVHD."
    )
    assert err.error_id == f"AmbiguousParameter,{NEW_VM}"


def test_common_parameters_are_accepted_and_validated(hv: HyperVMachine) -> None:
    b = bind(contract("Get-VM"), (("ErrorAction", "silentlycontinue"), ("Verbose", True)))
    assert b.values["ErrorAction"] == "SilentlyContinue" and b.values["Verbose"] is True
    err = terminating(hv, call("Get-VM", ErrorAction="Sometimes"))
    assert (
        err.error_id == "CannotConvertArgumentNoMessage,Microsoft.HyperV.PowerShell.Commands.GetVM"
    )
    assert 'Cannot convert value "Sometimes" to type "ActionPreference"' in err.message


def test_parameters_from_two_sets_cannot_be_resolved(hv: HyperVMachine) -> None:
    err = terminating(hv, call("New-VM", Name="x", NoVHD=True, VHDPath="C:\\a.vhdx"))
    assert err.message == "Parameter set cannot be resolved using the specified named parameters."
    assert err.error_id == f"AmbiguousParameterSet,{NEW_VM}"


def test_named_parameters_choose_the_set() -> None:
    c = contract("New-VM")
    assert bind(c, (("Name", "x"),)).set_name == "No VHD"  # the default set
    assert bind(c, (("VHDPath", "C:\\a.vhdx"),)).set_name == "Existing VHD"
    assert bind(c, (("NewVHDPath", "C:\\a"), ("NewVHDSizeBytes", 1))).set_name == "New VHD"
    assert (
        bind(
            contract("New-VHD"), (("Path", "c"), ("ParentPath", "p"), ("Differencing", True))
        ).set_name
        == "Differencing"
    )


def test_missing_mandatory_parameter_uses_the_non_interactive_text(hv: HyperVMachine) -> None:
    err = terminating(hv, call("New-VM", NewVHDPath="C:\\a.vhdx"))
    assert err.message == (
        "Cannot process command because of one or more missing mandatory parameters: "
        "NewVHDSizeBytes."
    )
    assert err.error_id == f"MissingMandatoryParameter,{NEW_VM}"
    err = terminating(hv, call("Set-Content", Path="C:\\x"))
    assert err.message.endswith("missing mandatory parameters: Value.")
    assert (
        err.error_id == "MissingMandatoryParameter,Microsoft.PowerShell.Commands.SetContentCommand"
    )


def test_positional_arguments_bind_in_position_order() -> None:
    b = bind(contract("New-VM"), ((None, "vm"), (None, 2 * GB), (None, 2)))
    assert b.values == {"Name": "vm", "MemoryStartupBytes": 2 * GB, "Generation": 2}
    # A named parameter takes itself out of the positional order.
    b = bind(contract("Set-Content"), (("Path", "C:\\x"), (None, "text")))
    assert b.values["Value"] == ["text"]


def test_positions_shared_by_two_parameters_follow_syntax_order() -> None:
    # platyPS gives New-VHD -ParentPath and -SizeBytes position 1; SYNTAX puts ParentPath first.
    c = contract("New-VHD")
    b = bind(c, ((None, "C:\\c.vhdx"), (None, "C:\\p.vhdx"), ("Differencing", True)))
    assert b.set_name == "Differencing" and b.values["ParentPath"] == "C:\\p.vhdx"
    b = bind(c, ((None, "C:\\d.vhdx"), (None, 10 * GB), ("Dynamic", True)))
    assert b.values["SizeBytes"] == 10 * GB


def test_too_many_positional_arguments(hv: HyperVMachine) -> None:
    err = terminating(hv, call("Get-VMHost", "a", "b", "c"))
    assert err.message == "A positional parameter cannot be found that accepts argument 'c'."
    assert err.error_id.startswith("PositionalParameterNotFound,")


def test_parameter_given_twice(hv: HyperVMachine) -> None:
    err = terminating(hv, CommandCall("Get-VM", (("Name", "a"), ("VMName", "b"))))
    assert err.message.startswith(
        "Cannot bind parameter because parameter 'Name' is specified more than once."
    )
    assert err.error_id.startswith("ParameterAlreadyBound,")


def test_null_argument(hv: HyperVMachine) -> None:
    assert (
        bind(contract("Set-VMDvdDrive"), (("VMName", "x"), ("Path", None))).values["Path"] is None
    )
    err = terminating(hv, call("Start-VM", Name=None))
    assert err.message == "Cannot bind argument to parameter 'Name' because it is null."
    assert err.error_id.startswith("ParameterArgumentValidationErrorNullNotAllowed,")
    assert err.category == "InvalidData"


def test_validate_set_text(hv: HyperVMachine) -> None:
    err = terminating(hv, call("New-VM", Name="x", Generation=3))
    assert err.message == (
        "Cannot validate argument on parameter 'Generation'. The argument \"3\" does not belong "
        'to the set "1,2" specified by the ValidateSet attribute. Supply an argument that is in '
        "the set and then try the command again."
    )
    assert err.error_id == f"ParameterArgumentValidationError,{NEW_VM}"
    assert err.category == "InvalidData"


@pytest.mark.parametrize(
    ("cmd", "param", "value", "type_name", "why"),
    [
        (
            "New-VM",
            "MemoryStartupBytes",
            "lots",
            "System.Int64",
            "Input string was not in a correct format.",
        ),
        (
            "Set-VMNetworkAdapterVlan",
            "VlanId",
            2**31,
            "System.Int32",
            "Value was either too large or too small for an Int32.",
        ),
        (
            "New-VHD",
            "SizeBytes",
            -1,
            "System.UInt64",
            "Value was either too large or too small for a UInt64.",
        ),
    ],
)
def test_integer_conversion_errors(
    hv: HyperVMachine, cmd: str, param: str, value: object, type_name: str, why: str
) -> None:
    extra = (
        {"VMName": "x"}
        if cmd == "Set-VMNetworkAdapterVlan"
        else {"Path": "C:\\a.vhdx"}
        if cmd == "New-VHD"
        else {}
    )
    err = terminating(hv, call(cmd, **extra, **{param: value}))
    assert err.message == (
        f"Cannot bind parameter '{param}'. Cannot convert value \"{value}\" to type "
        f'"{type_name}". Error: "{why}"'
    )
    assert err.error_id.startswith("CannotConvertArgumentNoMessage,")


def test_numeric_strings_convert() -> None:
    assert (
        bind(contract("New-VM"), (("MemoryStartupBytes", "1073741824"),)).values[
            "MemoryStartupBytes"
        ]
        == GB
    )


def test_boolean_parameter_accepts_only_booleans_and_numbers(hv: HyperVMachine) -> None:
    assert (
        bind(contract("Set-VMMemory"), (("VMName", "x"), ("DynamicMemoryEnabled", 0))).values[
            "DynamicMemoryEnabled"
        ]
        is False
    )
    err = terminating(hv, call("Set-VMMemory", VMName="x", DynamicMemoryEnabled="yes"))
    assert err.message == (
        "Cannot process argument transformation on parameter 'DynamicMemoryEnabled'. Cannot "
        'convert value "System.String" to type "System.Boolean". Boolean parameters accept only '
        "Boolean values and numbers, such as $True, $False, 1 or 0."
    )


def test_switch_false_is_not_present_and_string_arrays_wrap_scalars() -> None:
    b = bind(contract("Stop-VM"), (("Name", "a"), ("Force", False)))
    assert "Force" not in b.values
    assert b.values["Name"] == ["a"]


def test_array_for_a_scalar_string_is_refused(hv: HyperVMachine) -> None:
    err = terminating(hv, call("New-VM", Name=["a", "b"]))
    assert err.message == (
        "Cannot convert 'System.Object[]' to the type 'System.String' required by parameter "
        "'Name'. Specified method is not supported."
    )


def test_enum_values_match_case_insensitively() -> None:
    b = bind(contract("Set-VMFirmware"), (("VMName", "x"), ("EnableSecureBoot", "off")))
    assert b.values["EnableSecureBoot"] == "Off"


def test_unknown_command(hv: HyperVMachine) -> None:
    err = terminating(hv, call("Get-Nothing"))
    assert err.message.startswith(
        "The term 'Get-Nothing' is not recognized as the name of a cmdlet"
    )
    assert err.error_id == "CommandNotFoundException"


def test_pipeline_input_that_binds_nowhere(hv: HyperVMachine) -> None:
    result = run(hv, [call("Get-VMHost"), call("Start-VM")])
    assert len(result) == 1 and result[0].error_id.startswith("InputObjectNotBound,")
    assert not result[0].terminating
