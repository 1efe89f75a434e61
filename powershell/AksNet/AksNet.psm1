# AksNet: AksHci-compatible cmdlets over a JSON-lines bridge to the aksnet Python library.
# Each public cmdlet binds and validates its parameters, then calls Invoke-AksNetBridge, the one
# private helper that runs `python -m aksnet.bridge` (see aksnet/bridge_protocol.md).

Set-StrictMode -Version 3.0

foreach ($folder in 'Private', 'Public') {
    $scripts = Get-ChildItem -Path (Join-Path $PSScriptRoot $folder) -Filter '*.ps1' -ErrorAction Stop
    foreach ($script in $scripts) { . $script.FullName }
}

# Tab completion of stored network names, from the store itself.
$networkNameCompleter = {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    $networks = Invoke-AksNetBridge -Command 'Get-AksHciClusterNetwork' -ErrorAction SilentlyContinue
    foreach ($network in $networks) {
        if ($network.Name -like "$wordToComplete*") {
            [System.Management.Automation.CompletionResult]::new(
                $network.Name, $network.Name, 'ParameterValue', "$($network.Name) ($($network.Model))")
        }
    }
}
Register-ArgumentCompleter -CommandName 'Get-AksHciClusterNetwork', 'Remove-AksHciClusterNetwork' -ParameterName 'name' -ScriptBlock $networkNameCompleter
Register-ArgumentCompleter -CommandName 'New-AksHciCluster' -ParameterName 'vnet' -ScriptBlock $networkNameCompleter

# Tab completion of stored cluster names, and of the node pools of the cluster already given.
$clusterNameCompleter = {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    $clusters = Invoke-AksNetBridge -Command 'Get-AksHciCluster' -ErrorAction SilentlyContinue
    foreach ($cluster in $clusters) {
        if ($cluster.Name -like "$wordToComplete*") {
            [System.Management.Automation.CompletionResult]::new(
                $cluster.Name, $cluster.Name, 'ParameterValue', "$($cluster.Name) ($($cluster.ProvisioningState))")
        }
    }
}
$nodePoolNameCompleter = {
    param($commandName, $parameterName, $wordToComplete, $commandAst, $fakeBoundParameters)
    if (-not $fakeBoundParameters.ContainsKey('clusterName')) { return }
    $pools = Invoke-AksNetBridge -Command 'Get-AksHciNodePool' -Parameters @{ clusterName = $fakeBoundParameters['clusterName'] } -ErrorAction SilentlyContinue
    foreach ($pool in $pools) {
        if ($pool.NodePoolName -like "$wordToComplete*") {
            [System.Management.Automation.CompletionResult]::new(
                $pool.NodePoolName, $pool.NodePoolName, 'ParameterValue', "$($pool.NodePoolName) ($($pool.OsType) x$($pool.NodeCount))")
        }
    }
}
Register-ArgumentCompleter -CommandName 'Get-AksHciCluster', 'Set-AksHciCluster', 'Remove-AksHciCluster', 'Get-AksHciCredential', 'Sync-AksHciLoadBalancer' -ParameterName 'name' -ScriptBlock $clusterNameCompleter
Register-ArgumentCompleter -CommandName 'New-AksHciNodePool', 'Get-AksHciNodePool', 'Set-AksHciNodePool', 'Remove-AksHciNodePool' -ParameterName 'clusterName' -ScriptBlock $clusterNameCompleter
Register-ArgumentCompleter -CommandName 'Get-AksHciNodePool', 'Set-AksHciNodePool', 'Remove-AksHciNodePool' -ParameterName 'name' -ScriptBlock $nodePoolNameCompleter

# AksHci's names for the same objects: aksnet keeps one kind of network, the network setting a
# workload cluster uses, so its Get and Remove answer to both names.
New-Alias -Name 'Get-AksHciNetworkSetting' -Value 'Get-AksHciClusterNetwork'
New-Alias -Name 'Remove-AksHciNetworkSetting' -Value 'Remove-AksHciClusterNetwork'

Export-ModuleMember -Function (Get-ChildItem -Path (Join-Path $PSScriptRoot 'Public') -Filter '*.ps1').BaseName -Alias 'Get-AksHciNetworkSetting', 'Remove-AksHciNetworkSetting'
