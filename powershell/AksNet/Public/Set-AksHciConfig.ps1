function Set-AksHciConfig {
    <#
    .SYNOPSIS
    Saves the AksNet configuration: working directory (the aksnet home), host network, lab mode.

    .DESCRIPTION
    Merges the given settings into the AksNet configuration file ($env:AKSNET_CONFIG, else
    %APPDATA%\AksNet\config.json or ~/.config/aksnet/config.json). aksnet 0.1 acts on
    -workingDir, -vnet, -controlPlaneVmSize and -labMode; the other AksHci parameters are accepted
    so existing scripts run, and stored. Unlike AksHci, no parameter is mandatory. Credentials are
    never stored.

    .PARAMETER imageDir
    Where images are kept (AksHci default %systemdrive%\AksHciImageStore). Stored only.

    .PARAMETER workingDir
    The working directory: aksnet keeps its store (aksnet.db) here; it is the aksnet home unless $env:AKSNET_HOME is set. AksHci default %systemdrive%\AksHci.

    .PARAMETER cloudConfigLocation
    AksHci cloud agent configuration directory. Stored only.

    .PARAMETER vnet
    The AKS host network: the object New-AksHciNetworkSetting returns.

    .PARAMETER createAutoConfigContainers
    true or false. Stored only.

    .PARAMETER offlineDownload
    Stored only.

    .PARAMETER offsiteTransferCompleted
    Stored only.

    .PARAMETER stagingShare
    Stored only.

    .PARAMETER nodeConfigLocation
    Node agent configuration directory. Stored only.

    .PARAMETER controlPlaneVmSize
    The AKS host control plane VM size (Get-AksHciVmSize).

    .PARAMETER sshPublicKey
    Path of the SSH public key for the VMs (a public key is not a secret).

    .PARAMETER macPoolStart
    First MAC address of the VM MAC pool. Stored only.

    .PARAMETER macPoolEnd
    Last MAC address of the VM MAC pool. Stored only.

    .PARAMETER proxySettings
    Proxy settings object; only its non-secret string properties are stored.

    .PARAMETER cloudServiceCidr
    Static IP/prefix of the cloud agent service, CIDR form. Stored only.

    .PARAMETER version
    The AksHci version. Stored only.

    .PARAMETER nodeAgentPort
    Default 45000. Stored only.

    .PARAMETER nodeAgentAuthorizerPort
    Default 45001. Stored only.

    .PARAMETER cloudAgentPort
    Default 55000. Stored only.

    .PARAMETER cloudAgentAuthorizerPort
    Default 65000. Stored only.

    .PARAMETER clusterRoleName
    Name of the cloud agent cluster role. Stored only.

    .PARAMETER cloudLocation
    Default MocLocation. Stored only.

    .PARAMETER concurrentDownloads
    Stored only.

    .PARAMETER skipHostLimitChecks
    Stored only.

    .PARAMETER skipRemotingChecks
    Stored only.

    .PARAMETER skipValidationChecks
    Stored only.

    .PARAMETER insecure
    Stored only.

    .PARAMETER skipUpdates
    Stored only.

    .PARAMETER forceDnsReplication
    Stored only.

    .PARAMETER labMode
    aksnet-specific: work against the embedded lab (emulated Hyper-V hosts) instead of real hosts.

    .EXAMPLE
    Set-AksHciConfig -workingDir C:\AksHci -labMode

    .EXAMPLE
    $vnet = New-AksHciNetworkSetting -name mgmt -vswitchName External -vipPoolStart 172.16.255.0 -vipPoolEnd 172.16.255.254
    Set-AksHciConfig -workingDir C:\ClusterStorage\Volume1\AksHci -vnet $vnet -WhatIf

    .OUTPUTS
    AksNet.Config
    #>
    [CmdletBinding(SupportsShouldProcess)]
    [OutputType('AksNet.Config')]
    param(
        [string] $imageDir,

        [string] $workingDir,

        [string] $cloudConfigLocation,

        [object] $vnet,

        [ValidateSet('true', 'false')]
        [string] $createAutoConfigContainers,

        [switch] $offlineDownload,

        [switch] $offsiteTransferCompleted,

        [string] $stagingShare,

        [string] $nodeConfigLocation,

        [ValidateSet('Default', 'Standard_A2_v2', 'Standard_A4_v2', 'Standard_D2s_v3', 'Standard_D4s_v3', 'Standard_D8s_v3', 'Standard_D16s_v3', 'Standard_D32s_v3', 'Standard_DS2_v2', 'Standard_DS3_v2', 'Standard_DS4_v2', 'Standard_DS5_v2', 'Standard_DS13_v2', 'Standard_K8S_v1', 'Standard_K8S2_v1', 'Standard_K8S3_v1', 'Standard_NK6', 'Standard_NK12')]
        [string] $controlPlaneVmSize = 'Standard_A4_v2',

        [string] $sshPublicKey,

        [string] $macPoolStart,

        [string] $macPoolEnd,

        [object] $proxySettings,

        [string] $cloudServiceCidr,

        [string] $version,

        [ValidateRange(1, 65535)]
        [int] $nodeAgentPort = 45000,

        [ValidateRange(1, 65535)]
        [int] $nodeAgentAuthorizerPort = 45001,

        [ValidateRange(1, 65535)]
        [int] $cloudAgentPort = 55000,

        [ValidateRange(1, 65535)]
        [int] $cloudAgentAuthorizerPort = 65000,

        [string] $clusterRoleName,

        [string] $cloudLocation = 'MocLocation',

        [ValidateRange(1, 64)]
        [int] $concurrentDownloads,

        [switch] $skipHostLimitChecks,

        [switch] $skipRemotingChecks,

        [switch] $skipValidationChecks,

        [switch] $insecure,

        [switch] $skipUpdates,

        [switch] $forceDnsReplication,

        [switch] $labMode
    )
    process {
        if ($workingDir) {
            # Python resolves relative paths against its own directory, not PowerShell's location.
            $PSBoundParameters['workingDir'] = $PSCmdlet.GetUnresolvedProviderPathFromPSPath($workingDir)
        }
        $whatIf = [bool]$WhatIfPreference
        if ($PSCmdlet.ShouldProcess('AksNet configuration', 'Save settings') -or $whatIf) {
            Invoke-AksNetBridge -Command 'Set-AksHciConfig' -Parameters $PSBoundParameters -WhatIfOnly:$whatIf -Cmdlet $PSCmdlet
        }
    }
}
