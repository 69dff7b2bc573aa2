<#
.SYNOPSIS
    Snapshots the RD Licensing tables of this license server and sends them to the calwatch
    collector; optionally forwards the Winlogbeat event files written on this host.

.DESCRIPTION
    Runs on the license server (Windows PowerShell 5.1 or PowerShell 7), as SYSTEM or an
    administrator: the licensing WMI provider needs administrative rights.

    1. Re-sends snapshots left in -DropFolder by earlier runs (oldest first).
    2. Reads Win32_TSIssuedLicense and Win32_TSLicenseKeyPack with Get-CimInstance, keeps the
       class properties (plus PSComputerName = this computer), renders every date as a UTC
       ISO 8601 instant (a CIM DateTime is a local time; ConvertTo-Json and Export-Csv would
       otherwise write /Date(ms)/ or a culture-formatted local time) and POSTs each table to
           POST <CollectorUrl>/v1/snapshots/issued-licenses
           POST <CollectorUrl>/v1/snapshots/keypacks
       with Authorization: Bearer <token> and X-Calwatch-Snapshot-Time (when the tables were
       read), as JSON (ConvertTo-Json -Depth 4; always an array) or CSV (-Format Csv).
    3. With -EventsFolder: sends the complete lines Winlogbeat appended to its NDJSON files
       since the last run to POST <CollectorUrl>/v1/events, and deletes rotated files once
       they were sent (see winlogbeat.yml beside this script).

    Each request is retried with exponential backoff and jitter on network errors, 408, 429
    and 5xx. A snapshot that still cannot be sent is written to -DropFolder (name.tmp, then
    renamed; its LastWriteTimeUtc is set to the snapshot time, which is what the collector's
    drop folder reads as the export time) and re-sent by the next run. A 4xx other than
    408/429 is a problem with the data or the token: it is logged, not retried, not kept.
    Re-sending is harmless: the collector derives the same event ids from the same snapshot
    and answers an already-seen snapshot with stale: true.

    An empty table is not sent (the collector refuses an export without rows); the script
    warns instead.

.PARAMETER CollectorUrl
    Base URL of the collector, e.g. https://calwatch.corp.example:8443

.PARAMETER TokenFile
    File whose first line is the bearer token. Restrict it to SYSTEM and Administrators:
        icacls C:\ProgramData\calwatch\token.txt /inheritance:r /grant:r SYSTEM:R Administrators:F

.PARAMETER Format
    Json (default) or Csv.

.PARAMETER DropFolder
    Where snapshots that could not be sent are kept until the next run. If this is the
    collector's own drop folder (a share the collector watches), add -NoResend so the files
    are left for the collector to read.

.PARAMETER EventsFolder
    Winlogbeat's output.file path. Offsets of what was already sent are kept in
    <EventsFolder>\.calwatch-offsets.json.

.PARAMETER NoGzip
    Send bodies uncompressed (default: Content-Encoding: gzip).

.EXAMPLE
    # Every 15 minutes, as SYSTEM:
    $action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument (
        '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\Program Files\calwatch\Export-CalSnapshot.ps1" ' +
        '-CollectorUrl https://calwatch.corp.example:8443 -TokenFile C:\ProgramData\calwatch\token.txt ' +
        '-EventsFolder C:\ProgramData\calwatch\events')
    $trigger = New-ScheduledTaskTrigger -Once -At (Get-Date) -RepetitionInterval (New-TimeSpan -Minutes 15)
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit (New-TimeSpan -Minutes 10) -StartWhenAvailable
    Register-ScheduledTask -TaskName 'calwatch snapshot' -Action $action -Trigger $trigger -Settings $settings `
        -User 'NT AUTHORITY\SYSTEM' -RunLevel Highest

.EXAMPLE
    # One manual run, CSV, verbose:
    .\Export-CalSnapshot.ps1 -CollectorUrl https://calwatch.corp.example:8443 -TokenFile .\token.txt -Format Csv -Verbose
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string] $CollectorUrl,
    [Parameter(Mandatory = $true)][string] $TokenFile,
    [ValidateSet('Json', 'Csv')][string] $Format = 'Json',
    [string] $DropFolder = (Join-Path $env:ProgramData 'calwatch\outbox'),
    [string] $EventsFolder,
    [switch] $NoResend,
    [switch] $NoGzip,
    [ValidateRange(1, 20)][int] $MaxAttempts = 6,
    [ValidateRange(1, 300)][int] $InitialDelaySeconds = 2,
    [ValidateRange(1, 600)][int] $TimeoutSeconds = 120,
    # Event files are sent in bodies of at most this many bytes, cut at line ends.
    [ValidateRange(65536, 67108864)][int] $MaxEventBodyBytes = 8MB
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1 may still default to TLS 1.0.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

# Windows PowerShell 5.1's System.Array type data can make ConvertTo-Json write
# {"value": [...], "Count": n} instead of an array.
if ($PSVersionTable.PSVersion.Major -lt 6) { Remove-TypeData -TypeName System.Array -ErrorAction SilentlyContinue }

$Invariant = [Globalization.CultureInfo]::InvariantCulture
$Utf8NoBom = New-Object Text.UTF8Encoding($false)
$BaseUrl = $CollectorUrl.TrimEnd('/')
$Token = (Get-Content -LiteralPath $TokenFile -TotalCount 1).Trim()
if ($Token.Length -lt 16) { throw "The token in $TokenFile is shorter than 16 characters." }

# Property lists match the fixtures the collector is tested with
# (test/fixtures/wmi/issued-licenses.script.json, keypacks.script.json).
function ConvertTo-UtcIso($Value) {
    if ($null -eq $Value) { return $null }
    return ([datetime]$Value).ToUniversalTime().ToString('o', $Invariant)
}
$ComputerProperty = @{ Name = 'PSComputerName'; Expression = { $env:COMPUTERNAME } }
$Tables = @(
    @{
        Name       = 'issued-licenses'
        Class      = 'Win32_TSIssuedLicense'
        Properties = @(
            $ComputerProperty, 'LicenseId', 'KeyPackId', 'sIssuedToUser', 'sIssuedToComputer', 'LicenseStatus',
            @{ Name = 'IssueDate'; Expression = { ConvertTo-UtcIso $_.IssueDate } },
            @{ Name = 'ExpirationDate'; Expression = { ConvertTo-UtcIso $_.ExpirationDate } },
            'sHardwareId')
    },
    @{
        Name       = 'keypacks'
        Class      = 'Win32_TSLicenseKeyPack'
        Properties = @(
            $ComputerProperty, 'KeyPackId', 'Description', 'KeyPackType', 'ProductType', 'ProductVersion',
            'ProductVersionID', 'TotalLicenses', 'IssuedLicenses', 'AvailableLicenses',
            @{ Name = 'ExpirationDate'; Expression = { ConvertTo-UtcIso $_.ExpirationDate } },
            'AccessRights', 'TypeAndModel')
    }
)

function Write-Log([string] $Message, [string] $Level = 'INFO') {
    # Straight to stdout, not the pipeline: functions below return values through it.
    [Console]::Out.WriteLine(('{0} {1} {2}' -f (Get-Date).ToUniversalTime().ToString('o', $Invariant), $Level, $Message))
}

function ConvertTo-Gzip([byte[]] $Bytes) {
    $memory = New-Object IO.MemoryStream
    $gzip = New-Object IO.Compression.GZipStream($memory, [IO.Compression.CompressionMode]::Compress)
    $gzip.Write($Bytes, 0, $Bytes.Length)
    $gzip.Dispose()
    return , $memory.ToArray()
}

function Get-StatusCode($ErrorRecord) {
    $response = $null
    if ($ErrorRecord.Exception.PSObject.Properties['Response']) { $response = $ErrorRecord.Exception.Response }
    if ($null -eq $response) { return $null }
    return [int]$response.StatusCode
}

# POSTs a body; returns 'sent', 'rejected' (a 4xx worth no retry) or 'failed' (retries used up).
function Send-Body([string] $Path, [byte[]] $Body, [string] $ContentType, [hashtable] $ExtraHeaders) {
    $headers = @{ Authorization = "Bearer $Token" }
    foreach ($key in $ExtraHeaders.Keys) { $headers[$key] = $ExtraHeaders[$key] }
    $payload = $Body
    if (-not $NoGzip) {
        $headers['Content-Encoding'] = 'gzip'
        $payload = ConvertTo-Gzip $Body
    }
    for ($attempt = 1; $attempt -le $MaxAttempts; $attempt++) {
        try {
            $response = Invoke-WebRequest -Uri "$BaseUrl$Path" -Method Post -Headers $headers -ContentType $ContentType `
                -Body $payload -UseBasicParsing -TimeoutSec $TimeoutSeconds
            Write-Log "POST $Path -> $($response.StatusCode) $($response.Content)"
            return 'sent'
        } catch {
            $status = Get-StatusCode $_
            $retriable = ($null -eq $status) -or ($status -eq 408) -or ($status -eq 429) -or ($status -ge 500)
            Write-Log "POST $Path attempt $attempt/$MaxAttempts failed: $(if ($status) { "HTTP $status " })$($_.Exception.Message)" 'WARN'
            if (-not $retriable) {
                if ($_.ErrorDetails -and $_.ErrorDetails.Message) { Write-Log "collector said: $($_.ErrorDetails.Message)" 'ERROR' }
                return 'rejected'
            }
            if ($attempt -lt $MaxAttempts) {
                $delay = [math]::Min(300, $InitialDelaySeconds * [math]::Pow(2, $attempt - 1))
                Start-Sleep -Milliseconds ([int]($delay * 1000 * (0.5 + (Get-Random -Maximum 1.0))))
            }
        }
    }
    return 'failed'
}

function Get-ContentType([string] $FileName) {
    if ($FileName -like '*.csv') { return 'text/csv; charset=utf-8' }
    return 'application/json; charset=utf-8'
}

# Keeps a snapshot for the next run: written as .tmp and renamed, stamped with its time.
function Save-ToDropFolder([string] $Name, [datetime] $TakenAt, [byte[]] $Body, [string] $Extension) {
    New-Item -ItemType Directory -Force -Path $DropFolder | Out-Null
    $file = Join-Path $DropFolder ('{0}_{1}_{2}.{3}' -f $Name, $env:COMPUTERNAME, $TakenAt.ToString('yyyyMMddTHHmmssfffZ', $Invariant), $Extension)
    [IO.File]::WriteAllBytes("$file.tmp", $Body)
    Move-Item -LiteralPath "$file.tmp" -Destination $file -Force
    (Get-Item -LiteralPath $file).LastWriteTimeUtc = $TakenAt
    Write-Log "kept $file for the next run" 'WARN'
}

function Send-Dropped {
    if ($NoResend -or -not (Test-Path -LiteralPath $DropFolder)) { return }
    $files = Get-ChildItem -LiteralPath $DropFolder -File |
        Where-Object { $_.Name -match '^(issued-licenses|keypacks)_.+\.(json|csv)$' } |
        Sort-Object LastWriteTimeUtc
    foreach ($file in $files) {
        $name = ($file.Name -split '_')[0]
        $takenAt = $file.LastWriteTimeUtc.ToString('o', $Invariant)
        $result = Send-Body "/v1/snapshots/$name" ([IO.File]::ReadAllBytes($file.FullName)) (Get-ContentType $file.Name) @{ 'X-Calwatch-Snapshot-Time' = $takenAt }
        switch ($result) {
            'sent' { Remove-Item -LiteralPath $file.FullName }
            'rejected' { Rename-Item -LiteralPath $file.FullName -NewName "$($file.Name).rejected"; Write-Log "$($file.Name) was refused; renamed to .rejected" 'ERROR' }
            'failed' { Write-Log 'collector still unreachable; leaving the outbox for the next run' 'WARN'; return }
        }
    }
}

function Send-Snapshots {
    foreach ($table in $Tables) {
        $takenAt = (Get-Date).ToUniversalTime()
        $rows = @(Get-CimInstance -Namespace 'root\cimv2' -ClassName $table.Class | Select-Object -Property $table.Properties)
        if ($rows.Count -eq 0) {
            Write-Log "$($table.Class) has no rows; nothing sent" 'WARN'
            continue
        }
        if ($Format -eq 'Csv') {
            $text = ($rows | ConvertTo-Csv -NoTypeInformation) -join "`r`n"
            $extension = 'csv'
        } else {
            # -InputObject keeps a one-row table an array.
            $text = ConvertTo-Json -InputObject $rows -Depth 4
            $extension = 'json'
        }
        $body = $Utf8NoBom.GetBytes($text + "`r`n")
        $headers = @{ 'X-Calwatch-Snapshot-Time' = $takenAt.ToString('o', $Invariant) }
        Write-Log "$($table.Class): $($rows.Count) rows, $($body.Length) bytes"
        $result = Send-Body "/v1/snapshots/$($table.Name)" $body (Get-ContentType ".$extension") $headers
        if ($result -eq 'failed') { Save-ToDropFolder $table.Name $takenAt $body $extension }
    }
}

# Sends what Winlogbeat appended since the last run, whole lines only.
function Send-Events {
    if (-not $EventsFolder -or -not (Test-Path -LiteralPath $EventsFolder)) { return }
    $stateFile = Join-Path $EventsFolder '.calwatch-offsets.json'
    $offsets = @{}
    if (Test-Path -LiteralPath $stateFile) {
        $saved = Get-Content -LiteralPath $stateFile -Raw | ConvertFrom-Json
        foreach ($p in $saved.PSObject.Properties) { $offsets[$p.Name] = [long]$p.Value }
    }
    $files = @(Get-ChildItem -LiteralPath $EventsFolder -File -Filter '*.ndjson' | Sort-Object LastWriteTimeUtc)
    $active = if ($files.Count -gt 0) { $files[-1].Name } else { $null }
    $kept = @{}
    foreach ($file in $files) {
        $offset = if ($offsets.ContainsKey($file.Name)) { $offsets[$file.Name] } else { [long]0 }
        # Winlogbeat keeps the file open: read with sharing.
        $stream = [IO.File]::Open($file.FullName, [IO.FileMode]::Open, [IO.FileAccess]::Read, [IO.FileShare]'ReadWrite, Delete')
        try {
            $length = $stream.Length
            if ($offset -gt $length) { $offset = 0 }  # the file was replaced
            while ($offset -lt $length) {
                $want = [int][math]::Min($MaxEventBodyBytes, $length - $offset)
                $buffer = New-Object byte[] $want
                $stream.Position = $offset
                $read = 0
                while ($read -lt $want) {
                    $n = $stream.Read($buffer, $read, $want - $read)
                    if ($n -le 0) { break }
                    $read += $n
                }
                if ($read -le 0) { break }
                $end = [Array]::LastIndexOf($buffer, [byte]10, $read - 1)
                if ($end -lt 0) { break }  # no complete line yet
                $chunk = New-Object byte[] ($end + 1)
                [Array]::Copy($buffer, $chunk, $end + 1)
                $result = Send-Body '/v1/events' $chunk 'application/x-ndjson' @{}
                if ($result -ne 'sent') {
                    Write-Log "events from $($file.Name) not sent ($result); retrying next run" 'WARN'
                    break
                }
                $offset += $end + 1
            }
        } finally {
            $stream.Dispose()
        }
        $done = ($offset -ge $file.Length) -and ($file.Name -ne $active) -and
            ($file.LastWriteTimeUtc -lt (Get-Date).ToUniversalTime().AddMinutes(-2))
        if ($done) {
            Remove-Item -LiteralPath $file.FullName
        } else {
            $kept[$file.Name] = $offset
        }
    }
    $temp = "$stateFile.tmp"
    [IO.File]::WriteAllText($temp, (ConvertTo-Json -InputObject $kept), $Utf8NoBom)
    Move-Item -LiteralPath $temp -Destination $stateFile -Force
}

try {
    Send-Dropped
    Send-Snapshots
    Send-Events
} catch {
    Write-Log "run failed: $($_.Exception.Message)" 'ERROR'
    exit 1
}
