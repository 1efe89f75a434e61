function Get-AksHciVmSize {
    <#
    .SYNOPSIS
    Lists the VM sizes that node, control plane and load balancer VMs can have.

    .DESCRIPTION
    The documented Get-AksHciVmSize table: size name, virtual CPUs, memory in GB and GPU.

    .EXAMPLE
    Get-AksHciVmSize | Where-Object MemoryGB -ge 16

    .OUTPUTS
    AksNet.VmSize
    #>
    [CmdletBinding()]
    [OutputType('AksNet.VmSize')]
    param()
    process {
        Invoke-AksNetBridge -Command 'Get-AksHciVmSize' -Parameters $PSBoundParameters -Cmdlet $PSCmdlet
    }
}
