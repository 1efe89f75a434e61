"""IPv4 addresses, prefixes and contiguous ranges, parsed with the parameter they came from."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError

from aksnet.errors import InvalidInput


def parse_address(parameter: str, value: object) -> IPv4Address:
    try:
        return IPv4Address(str(value).strip())
    except AddressValueError:
        raise InvalidInput(
            parameter, value, "it must be an IPv4 address such as 198.18.0.10."
        ) from None


def parse_prefix(parameter: str, value: object) -> IPv4Network:
    """A CIDR prefix whose host bits are zero, e.g. 198.18.0.0/24."""
    text = str(value).strip()
    if "/" not in text:
        raise InvalidInput(parameter, value, "it must be a CIDR prefix such as 198.18.0.0/24.")
    try:
        return IPv4Network(text, strict=True)
    except (AddressValueError, NetmaskValueError):
        raise InvalidInput(
            parameter, value, "it must be a CIDR prefix such as 198.18.0.0/24."
        ) from None
    except ValueError:
        raise InvalidInput(
            parameter, value, "it has host bits set; give the network address, e.g. 198.18.0.0/24."
        ) from None


@dataclass(frozen=True, order=True)
class AddressRange:
    """A contiguous range of IPv4 addresses, both ends included."""

    start: IPv4Address
    end: IPv4Address

    @classmethod
    def of(
        cls, start_parameter: str, start: object, end_parameter: str, end: object
    ) -> AddressRange:
        first = parse_address(start_parameter, start)
        last = parse_address(end_parameter, end)
        if last < first:
            raise InvalidInput(
                end_parameter, str(end), f"it must not come before {start_parameter} {first}."
            )
        return cls(first, last)

    @property
    def first(self) -> int:
        return int(self.start)

    @property
    def last(self) -> int:
        return int(self.end)

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def __contains__(self, address: object) -> bool:
        if isinstance(address, IPv4Address):
            address = int(address)
        return isinstance(address, int) and self.first <= address <= self.last

    def overlaps(self, other: AddressRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def within(self, prefix: IPv4Network) -> bool:
        return self.start in prefix and self.end in prefix

    def overlaps_prefix(self, prefix: IPv4Network) -> bool:
        return (
            self.first <= int(prefix.broadcast_address) and int(prefix.network_address) <= self.last
        )

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"
