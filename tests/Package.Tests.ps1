BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $manifestData = Import-PowerShellDataFile -Path (Join-Path $RepositoryRoot 'PortTools.psd1')
    # build.ps1 -Task Test packs before it runs Pester; by hand, run ./build.ps1 -Task Package first.
    $script:PackagePath = if ($env:PORTTOOLS_PACKAGE_PATH) { $env:PORTTOOLS_PACKAGE_PATH } else { Join-Path $RepositoryRoot "output/packages/PortTools.$($manifestData.ModuleVersion).nupkg" }
    # Under build.ps1 the package must be there; by hand, the tests wait for one to be built.
    $script:HavePackage = [bool]$env:PORTTOOLS_PACKAGE_PATH -or (Test-Path -LiteralPath $PackagePath)
    $script:HavePSResourceGet = [bool](Get-Command -Name Save-PSResource -ErrorAction SilentlyContinue)
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    Add-Type -AssemblyName System.IO.Compression, System.IO.Compression.FileSystem
    $manifest = Import-PowerShellDataFile -Path (Join-Path $RepositoryRoot 'PortTools.psd1')
    $packagePath = if ($env:PORTTOOLS_PACKAGE_PATH) { $env:PORTTOOLS_PACKAGE_PATH } else { Join-Path $RepositoryRoot "output/packages/PortTools.$($manifest.ModuleVersion).nupkg" }
}

Describe 'The module package' -Skip:(-not $HavePackage) {
    BeforeAll {
        $zip = [System.IO.Compression.ZipFile]::OpenRead($packagePath)
        try {
            $entries = @($zip.Entries | ForEach-Object FullName)
            $reader = New-Object System.IO.StreamReader ($zip.GetEntry('PortTools.nuspec').Open())
            try {
                [xml]$nuspec = $reader.ReadToEnd()
            }
            finally {
                $reader.Dispose()
            }
        }
        finally {
            $zip.Dispose()
        }
        $metadata = $nuspec.package.metadata
    }

    It 'is named for the module and its version' {
        Split-Path -Leaf $packagePath | Should -Be "PortTools.$($manifest.ModuleVersion).nupkg"
        $metadata.id | Should -Be 'PortTools'
        $metadata.version | Should -Be $manifest.ModuleVersion
    }

    It 'carries the gallery metadata of the manifest' {
        $metadata.authors | Should -Be $manifest.Author
        $metadata.description | Should -Be $manifest.Description
        $metadata.projectUrl | Should -Be $manifest.PrivateData.PSData.ProjectUri
        $metadata.licenseUrl | Should -Be $manifest.PrivateData.PSData.LicenseUri
        $metadata.copyright | Should -Be $manifest.Copyright
    }

    It 'is tagged as a module, with its editions and every cmdlet' {
        $tags = $metadata.tags -split ' '
        $tags | Should -Contain 'PSModule'
        $tags | Should -Contain 'PSEdition_Core'
        $tags | Should -Contain 'PSEdition_Desktop'
        $tags | Should -Contain 'PSIncludes_Cmdlet'
        foreach ($cmdlet in $manifest.CmdletsToExport) {
            $tags | Should -Contain "PSCmdlet_$cmdlet"
        }
    }

    It 'has this version''s CHANGELOG section as release notes' {
        $changelog = Get-Content -LiteralPath (Join-Path $RepositoryRoot 'CHANGELOG.md') -Raw
        $metadata.releaseNotes | Should -Not -BeNullOrEmpty
        $changelog.Replace("`r`n", "`n") | Should -BeLike ('*' + $metadata.releaseNotes.Replace("`r`n", "`n").Substring(0, 60) + '*')
    }

    It 'holds the module files at its root, a build per edition under bin, and nothing of PowerShell itself' {
        foreach ($file in 'PortTools.psd1', 'PortTools.psm1', 'PortTools.format.ps1xml', 'PortTools.types.ps1xml', 'en-US/PortTools.dll-Help.xml', 'en-US/about_PortTools.help.txt', 'LICENSE') {
            $entries | Should -Contain $file
        }
        foreach ($framework in 'net472', 'netstandard2.0') {
            $entries | Should -Contain "bin/$framework/PortTools.dll"
            $entries | Should -Contain "bin/$framework/PortTools.Core.dll"
        }
        # Windows PowerShell 5.1 loads these beside the net472 build: no binding redirect can fix a mismatch.
        foreach ($dependency in 'System.Memory.dll', 'System.Buffers.dll', 'System.Runtime.CompilerServices.Unsafe.dll') {
            $entries | Should -Contain "bin/net472/$dependency"
        }
        $entries | Where-Object { $_ -like '*System.Management.Automation*' } | Should -BeNullOrEmpty
        $entries | Should -Contain '[Content_Types].xml'
        $entries | Should -Contain '_rels/.rels'
    }

    It 'installs from a local folder repository and imports in a fresh session' -Skip:(-not $HavePSResourceGet) {
        $repository = Join-Path $TestDrive 'repository'
        $saved = Join-Path $TestDrive 'saved'
        $null = New-Item -ItemType Directory -Path $repository, $saved -Force
        Copy-Item -LiteralPath $packagePath -Destination $repository
        $name = "PortToolsTest$PID"
        Register-PSResourceRepository -Name $name -Uri $repository -Trusted
        try {
            $found = Find-PSResource -Name PortTools -Repository $name
            $found.Version.ToString() | Should -Be $manifest.ModuleVersion
            $found.Type | Should -Be 'Module'
            Save-PSResource -Name PortTools -Repository $name -Path $saved -TrustRepository
        }
        finally {
            Unregister-PSResourceRepository -Name $name
        }

        $installed = Join-Path $saved "PortTools/$($manifest.ModuleVersion)"
        Test-Path -LiteralPath (Join-Path $installed 'PortTools.psd1') | Should -BeTrue
        # A fresh process: this one has the staged copy of the same assemblies loaded.
        $shell = Get-PowerShellPath
        $commands = & $shell -NoProfile -NonInteractive -Command "Import-Module -Name '$(Join-Path $installed 'PortTools.psd1')' -ErrorAction Stop; (Get-Command -Module PortTools).Name; (Get-PortInfo 443 -Protocol Tcp).ServiceName"
        $LASTEXITCODE | Should -Be 0
        $commands | Should -Contain 'Get-SocketTuple'
        $commands | Should -Contain 'https'
        @($commands | Where-Object { $_ -like '*-*' }) | Should -HaveCount $manifest.CmdletsToExport.Count
    }
}
