@{
    RootModule           = 'AksNet.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f8f3e-6a43-4c1e-9d0b-2f3c7a9e41d6'
    Author               = 'The aksnet authors'
    CompanyName          = 'aksnet'
    Copyright            = '(c) The aksnet authors. MIT License.'
    Description          = 'AksHci-compatible cmdlets for aksnet: Kubernetes clusters on Azure Stack HCI / Hyper-V hosts with the networking model of AKS on Azure Stack HCI. Needs the aksnet Python package (scripts/install-module.ps1).'
    CompatiblePSEditions = @('Desktop', 'Core')
    PowerShellVersion    = '5.1'
    FormatsToProcess     = @('AksNet.format.ps1xml')
    FunctionsToExport    = @(
        'Get-AksHciCluster',
        'Get-AksHciClusterNetwork',
        'Get-AksHciConfig',
        'Get-AksHciCredential',
        'Get-AksHciNodePool',
        'Get-AksHciVmSize',
        'Get-AksNetPlugin',
        'New-AksHciCluster',
        'New-AksHciClusterNetwork',
        'New-AksHciLoadBalancerSetting',
        'New-AksHciNetworkSetting',
        'New-AksHciNodePool',
        'Register-AksHciRemediationTask',
        'Remove-AksHciCluster',
        'Remove-AksHciClusterNetwork',
        'Remove-AksHciNodePool',
        'Repair-AksHciClusterNetwork',
        'Set-AksHciCluster',
        'Set-AksHciConfig',
        'Set-AksHciNodePool',
        'Sync-AksHciLoadBalancer',
        'Test-AksHciClusterNetwork',
        'Unregister-AksHciRemediationTask'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @('Get-AksHciNetworkSetting', 'Remove-AksHciNetworkSetting')
    PrivateData          = @{
        PSData = @{
            Tags         = @('AKS', 'AksHci', 'Kubernetes', 'AzureStackHCI', 'HyperV', 'Networking', 'Calico', 'Flannel', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = 'First cut: cluster networks, network and load balancer settings, VM sizes, configuration, plugins; New-AksHciCluster supports -WhatIf only.'
        }
    }
}
