# Pester 5 tests of the AksNet module against the real Python side (python -m aksnet.bridge).
# Run: $env:AKSNET_PYTHON = '<venv python>'; Invoke-Pester -Path powershell/AksNet/tests
# tests/bridge/test_pester.py runs them when pwsh is on PATH, with a temporary store.

BeforeAll {
    $modulePath = Join-Path (Split-Path -Parent $PSScriptRoot) 'AksNet.psd1'
    Import-Module $modulePath -Force
    # Never touch a real store or configuration: both live in a temporary directory.
    if (-not ($env:AKSNET_HOME -and $env:AKSNET_CONFIG)) {
        $env:AKSNET_HOME = Join-Path ([System.IO.Path]::GetTempPath()) ('aksnet-pester-' + [guid]::NewGuid())
        $env:AKSNET_CONFIG = Join-Path $env:AKSNET_HOME 'config.json'
    }
    $dhcp = @{
        name         = 'vnet1'
        vswitchName  = 'External'
        vipPoolStart = '198.18.0.10'
        vipPoolEnd   = '198.18.0.50'
    }
}

AfterAll {
    Get-AksHciClusterNetwork | Remove-AksHciClusterNetwork -Confirm:$false
    Remove-Module AksNet -ErrorAction SilentlyContinue
}

Describe 'The module' {
    It 'exports exactly the manifest functions' {
        $manifest = Import-PowerShellDataFile $modulePath
        $exported = ((Get-Command -Module AksNet).Name | Sort-Object) -join ','
        $exported | Should -Be (($manifest.FunctionsToExport | Sort-Object) -join ',')
    }

    It 'has help with a synopsis and an example for every cmdlet' {
        foreach ($command in Get-Command -Module AksNet) {
            $help = Get-Help $command.Name -Full
            $help.Synopsis | Should -Not -BeNullOrEmpty
            @($help.Examples.Example).Count | Should -BeGreaterThan 0
        }
    }
}

Describe 'Cluster networks' {
    It 'creates, lists and removes through the pipeline' {
        $vnet = New-AksHciClusterNetwork @dhcp -Confirm:$false
        $vnet.PSObject.TypeNames[0] | Should -Be 'AksNet.Network'
        (Get-AksHciClusterNetwork -name vnet1).Name | Should -Be 'vnet1'
        Get-AksHciClusterNetwork -name vnet1 | Remove-AksHciClusterNetwork -Confirm:$false
        @(Get-AksHciClusterNetwork).Count | Should -Be 0
    }

    It 'stores nothing with -WhatIf' {
        New-AksHciClusterNetwork @dhcp -WhatIf
        @(Get-AksHciClusterNetwork).Count | Should -Be 0
    }

    It 'turns a bridge error into an ErrorRecord with category, id and target' {
        $bad = $dhcp.Clone(); $bad.name = 'Bad'
        $record = $null
        try { New-AksHciClusterNetwork @bad -Confirm:$false } catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.FullyQualifiedErrorId | Should -BeLike 'InvalidParameterValue*'
        $record.TargetObject | Should -Be 'name'
    }

    It 'writes a non-terminating error for an unknown name' {
        $result = Get-AksHciClusterNetwork -name nothere -ErrorVariable problems -ErrorAction SilentlyContinue
        $result | Should -BeNullOrEmpty
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'validates parameters in PowerShell before calling Python' {
        { New-AksHciClusterNetwork @dhcp -vlanID 5000 -Confirm:$false } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}

Describe 'New-AksHciCluster' {
    BeforeAll { New-AksHciClusterNetwork @dhcp -Confirm:$false | Out-Null }
    AfterAll { Remove-AksHciClusterNetwork -name vnet1 -Confirm:$false }

    It 'returns the plan with -WhatIf' {
        $lb = New-AksHciLoadBalancerSetting -name lb -loadBalancerSku HAProxy
        $plan = New-AksHciCluster -name c1 -vnet (Get-AksHciClusterNetwork -name vnet1) -loadBalancerSettings $lb -WhatIf
        $plan.PSObject.TypeNames[0] | Should -Be 'AksNet.ClusterPlan'
        $plan.Network | Should -Be 'vnet1'
    }

    It 'is not available yet without -WhatIf' {
        $record = $null
        try { New-AksHciCluster -name c1 -vnet vnet1 -Confirm:$false } catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be 'NotImplemented'
        $record.Exception.Message | Should -BeLike '*not available yet in this version*'
    }
}

Describe 'Sizes, plugins and configuration' {
    It 'lists VM sizes with their type name' {
        $sizes = Get-AksHciVmSize
        $sizes.VmSize | Should -Contain 'Standard_K8S3_v1'
        $sizes[0].PSObject.TypeNames[0] | Should -Be 'AksNet.VmSize'
    }

    It 'shows the plugin capability table' {
        (Get-AksNetPlugin).Name -join ',' | Should -Be 'calico,flannel'
    }

    It 'keeps the working directory as an absolute path' {
        Push-Location ([System.IO.Path]::GetTempPath())
        try { Set-AksHciConfig -workingDir 'aksnet-relative' -Confirm:$false | Out-Null }
        finally { Pop-Location }
        [System.IO.Path]::IsPathRooted((Get-AksHciConfig).workingDir) | Should -BeTrue
    }

    It 'saves and reads the configuration' {
        Set-AksHciConfig -labMode -cloudAgentPort 55001 -Confirm:$false | Out-Null
        $config = Get-AksHciConfig
        $config.labMode | Should -BeTrue
        $config.cloudAgentPort | Should -Be 55001
    }
}

Describe 'Clusters and node pools without a lab' {
    It 'writes a non-terminating error for an unknown cluster or node pool' {
        Get-AksHciCluster -name nothere -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-AksHciNodePool -clusterName nothere -ErrorVariable poolProblems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $poolProblems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'validates counts and sizes in PowerShell before calling Python' {
        { Set-AksHciCluster -name c1 -controlPlaneNodeCount 2 -Confirm:$false } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { Set-AksHciNodePool -clusterName c1 -name p1 -count 201 -Confirm:$false } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
        { New-AksHciNodePool -clusterName c1 -name p1 -vmSize Huge -Confirm:$false } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }

    It 'refuses -adAuth as not available yet' {
        $record = $null
        try { Get-AksHciCredential -name nothere -adAuth -Confirm:$false } catch { $record = $_ }
        $record.CategoryInfo.Category | Should -Be 'NotImplemented'
    }
}

Describe 'Sync-AksHciLoadBalancer without a lab' {
    It 'writes a non-terminating error for an unknown cluster' {
        Sync-AksHciLoadBalancer -name nothere -Confirm:$false -ErrorVariable problems -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $problems[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'refuses an empty name in PowerShell before calling Python' {
        { Sync-AksHciLoadBalancer -name '' -Confirm:$false } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
}
