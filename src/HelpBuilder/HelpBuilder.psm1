#Requires -Version 7.4
# Turns platyPS-style markdown (docs/en-US) into the MAML and about_ text files Get-Help reads.
# platyPS is not available where LvsDirect builds, so this covers the subset of its schema 2.0.0 pages that
# the module's docs use. It is strict on purpose: a malformed page fails the build instead of shipping
# help with a missing section.

Set-StrictMode -Version 3.0

$script:MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$script:CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$script:DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'
$script:MshNs = 'http://msh'

$script:KnownSections = @(
    'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS', 'INPUTS', 'OUTPUTS', 'NOTES', 'RELATED LINKS', 'ALIASES'
)
$script:YamlKeys = @(
    'Type', 'Parameter Sets', 'Aliases', 'Required', 'Position', 'Default value', 'Accept pipeline input',
    'Accept wildcard characters', 'Applicable'
)

function ConvertFrom-InlineMarkdown {
    # Get-Help prints plain text: drop emphasis and code ticks, keep link text, undo backslash escapes.
    param([Parameter(Mandatory)][AllowEmptyString()][string] $Text)

    $t = [regex]::Replace($Text, '!?\[([^\]]*)\]\([^)]*\)', '$1')
    $t = [regex]::Replace($t, '(\*\*|__)(.+?)\1', '$2')
    $t = [regex]::Replace($t, '(`+)(.+?)\1', '$2')
    $t = [regex]::Replace($t, '\\([\\`*_{}\[\]()#+\-.!<>|])', '$1')
    $t.Trim()
}

function Split-MarkdownBlock {
    # Splits the body of a section into blocks: headings (### only), fenced code, list items and paragraphs.
    param([string[]] $Lines, [string] $File)

    $blocks = [System.Collections.Generic.List[object]]::new()
    $para = [System.Collections.Generic.List[string]]::new()
    $flush = {
        if ($para.Count -gt 0) {
            $first = $para[0]
            $kind = if ($first -match '^\s*([-*+]|\d+[.)])\s+') { 'ListItem' } elseif ($first -match '^\s*\|') { 'Table' } else { 'Paragraph' }
            $blocks.Add([pscustomobject]@{ Kind = $kind; Lines = @($para); Text = (@($para) -join ' ') })
            $para.Clear()
        }
    }

    for ($i = 0; $i -lt $Lines.Count; $i++) {
        $line = $Lines[$i]
        if ($line -match '^\s*(```+|~~~+)\s*([\w+-]*)\s*$') {
            & $flush
            $fence = $Matches[1]
            $lang = $Matches[2]
            $code = [System.Collections.Generic.List[string]]::new()
            $closed = $false
            for ($i++; $i -lt $Lines.Count; $i++) {
                if ($Lines[$i].Trim() -eq $fence) { $closed = $true; break }
                $code.Add($Lines[$i])
            }
            if (-not $closed) { throw "${File}: a code fence ($fence$lang) is not closed." }
            $blocks.Add([pscustomobject]@{ Kind = 'Code'; Language = $lang; Lines = @($code); Text = (@($code) -join "`n") })
        }
        elseif ($line -match '^###\s+(.+?)\s*$') {
            & $flush
            $blocks.Add([pscustomobject]@{ Kind = 'Heading'; Text = $Matches[1]; Lines = @($line) })
        }
        elseif ($line -match '^#{1,2}\s') {
            throw "${File}: unexpected heading '$line' inside a section."
        }
        elseif ([string]::IsNullOrWhiteSpace($line)) {
            & $flush
        }
        elseif ($line -match '^\s*([-*+]|\d+[.)])\s+' -and $para.Count -gt 0 -and $para[0] -notmatch '^\s*\|') {
            & $flush
            $para.Add($line)
        }
        elseif ($line -match '^\s*\|' -and $para.Count -gt 0 -and $para[0] -notmatch '^\s*\|') {
            & $flush
            $para.Add($line)
        }
        else {
            $para.Add($line)
        }
    }
    & $flush
    , $blocks.ToArray()
}

function Read-MarkdownPage {
    # Returns the page as front matter, title and an ordered map of H2 section name -> blocks.
    param([Parameter(Mandatory)][string] $Path)

    $lines = [System.IO.File]::ReadAllLines($Path)
    $file = Split-Path -Leaf $Path
    $front = [ordered]@{}
    $start = 0
    if ($lines.Count -gt 0 -and $lines[0].Trim() -eq '---') {
        for ($i = 1; $i -lt $lines.Count; $i++) {
            if ($lines[$i].Trim() -eq '---') { $start = $i + 1; break }
            if ($lines[$i] -match '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { $front[$Matches[1]] = $Matches[2] }
        }
        if ($start -eq 0) { throw "${file}: the front matter is not closed with '---'." }
    }

    $title = $null
    $sections = [ordered]@{}
    $current = $null
    $body = [System.Collections.Generic.List[string]]::new()
    $inFence = $false
    for ($i = $start; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^#\s+(.+?)\s*$' -and $null -eq $title -and $null -eq $current) {
            $title = $Matches[1]
            continue
        }
        if (-not $inFence -and $line -match '^##\s+(.+?)\s*$') {
            if ($null -ne $current) { $sections[$current] = Split-MarkdownBlock -Lines $body.ToArray() -File $file }
            $current = $Matches[1].ToUpperInvariant()
            if ($sections.Contains($current)) { throw "${file}: the section '## $current' appears twice." }
            $body.Clear()
            continue
        }
        if ($null -eq $current) {
            if (-not [string]::IsNullOrWhiteSpace($line)) { throw "${file}: text before the first '##' section: '$line'." }
            continue
        }
        $body.Add($line)
    }
    if ($null -ne $current) { $sections[$current] = Split-MarkdownBlock -Lines $body.ToArray() -File $file }
    if (-not $title) { throw "${file}: the page has no '# Title' heading." }

    [pscustomobject]@{ File = $file; FrontMatter = $front; Title = $title; Sections = $sections }
}

function Get-ParagraphText {
    # Paragraphs and list items as plain-text paragraphs; code blocks keep their lines.
    param([object[]] $Blocks)

    foreach ($b in $Blocks) {
        switch ($b.Kind) {
            'Paragraph' { ConvertFrom-InlineMarkdown ($b.Lines.ForEach({ $_.Trim() }) -join ' ') }
            'ListItem' {
                $t = ConvertFrom-InlineMarkdown ($b.Lines.ForEach({ $_.Trim() }) -join ' ')
                $t -replace '^[*+]\s+', '- '
            }
            'Table' { ($b.Lines.ForEach({ $_.Trim() }) -join "`n") }
            'Code' { ($b.Lines.ForEach({ '    ' + $_ }) -join "`n") }
            default { throw "unexpected block '$($b.Kind)'" }
        }
    }
}

function ConvertFrom-ParameterYaml {
    param([string[]] $Lines, [string] $Where)

    $map = @{}
    foreach ($l in $Lines) {
        if ([string]::IsNullOrWhiteSpace($l)) { continue }
        if ($l -notmatch '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { throw "${Where}: cannot read the yaml line '$l'." }
        if ($Matches[1] -notin $script:YamlKeys) { throw "${Where}: unknown yaml key '$($Matches[1])'." }
        $map[$Matches[1]] = $Matches[2]
    }
    foreach ($k in 'Type', 'Parameter Sets', 'Required', 'Position') {
        if (-not $map.ContainsKey($k) -or [string]::IsNullOrWhiteSpace($map[$k])) { throw "${Where}: the yaml block has no '$k'." }
    }
    if ($map['Required'] -notin 'True', 'False') { throw "${Where}: 'Required' must be True or False, not '$($map['Required'])'." }
    if ($map['Position'] -notmatch '^(Named|\d+)$') { throw "${Where}: 'Position' must be Named or a number, not '$($map['Position'])'." }

    $sets = @($map['Parameter Sets'].Split(',').ForEach({ $_.Trim() }).Where({ $_ }))
    $aliases = if ($map['Aliases'] -and $map['Aliases'] -ne 'None') { $map['Aliases'] } else { $null }
    [pscustomobject]@{
        Type       = $map['Type']
        Sets       = $sets
        Aliases    = $aliases
        Required   = $map['Required'] -eq 'True'
        Position   = if ($map['Position'] -eq 'Named') { 'named' } else { $map['Position'] }
        Default    = if ($map['Default value']) { $map['Default value'] } else { 'None' }
        Pipeline   = if ($map['Accept pipeline input']) { $map['Accept pipeline input'] } else { 'False' }
        Globbing   = ($map['Accept wildcard characters'] -eq 'True')
    }
}

function Get-CommandPage {
    # Reads one cmdlet page into the pieces MAML needs, checking that none is missing.
    param([Parameter(Mandatory)][string] $Path)

    $page = Read-MarkdownPage -Path $Path
    $f = $page.File
    foreach ($s in $page.Sections.Keys) {
        if ($s -notin $script:KnownSections) { throw "${f}: unknown section '## $s'." }
    }
    foreach ($s in 'SYNOPSIS', 'SYNTAX', 'DESCRIPTION', 'EXAMPLES', 'PARAMETERS') {
        if (-not $page.Sections.Contains($s)) { throw "${f}: the section '## $s' is missing." }
    }
    if ($page.Title -notmatch '^[A-Za-z]+-[A-Za-z]+$') { throw "${f}: the title '$($page.Title)' is not a Verb-Noun command name." }

    $synopsis = @(Get-ParagraphText $page.Sections['SYNOPSIS']) -join ' '
    if (-not $synopsis) { throw "${f}: the synopsis is empty." }
    $description = @(Get-ParagraphText $page.Sections['DESCRIPTION'])
    if ($description.Count -eq 0) { throw "${f}: the description is empty." }

    # Parameter sets are the ### headings of SYNTAX; a page without them has one set.
    $setNames = @($page.Sections['SYNTAX'].Where({ $_.Kind -eq 'Heading' }).ForEach({ ($_.Text -replace '\s*\(Default\)\s*$', '').Trim() }))
    if ($setNames.Count -eq 0) { $setNames = @('__AllParameterSets') }

    $examples = [System.Collections.Generic.List[object]]::new()
    $current = $null
    foreach ($b in $page.Sections['EXAMPLES']) {
        if ($b.Kind -eq 'Heading') {
            $current = [pscustomobject]@{ Title = $b.Text; Code = [System.Collections.Generic.List[string]]::new(); Remarks = [System.Collections.Generic.List[string]]::new() }
            $examples.Add($current)
        }
        elseif ($null -eq $current) { throw "${f}: text in EXAMPLES before the first '### Example' heading." }
        elseif ($b.Kind -eq 'Code') { $current.Code.Add($b.Text) }
        else { foreach ($p in Get-ParagraphText @($b)) { $current.Remarks.Add($p) } }
    }
    foreach ($e in $examples) {
        if ($e.Code.Count -eq 0) { throw "${f}: the example '$($e.Title)' has no code block." }
    }

    $parameters = [System.Collections.Generic.List[object]]::new()
    $current = $null
    $commonParameters = $false
    foreach ($b in $page.Sections['PARAMETERS']) {
        if ($b.Kind -eq 'Heading') {
            if ($b.Text -eq 'CommonParameters') { $commonParameters = $true; $current = $null; continue }
            if ($b.Text -notmatch '^-(\w+)$') { throw "${f}: the parameter heading '### $($b.Text)' is not '### -Name'." }
            $current = [pscustomobject]@{ Name = $Matches[1]; Description = [System.Collections.Generic.List[string]]::new(); Yaml = [System.Collections.Generic.List[object]]::new() }
            $parameters.Add($current)
        }
        elseif ($null -eq $current) {
            if (-not $commonParameters) { throw "${f}: text in PARAMETERS before the first '### -Name' heading." }
        }
        elseif ($b.Kind -eq 'Code' -and $b.Language -eq 'yaml') { $current.Yaml.Add((ConvertFrom-ParameterYaml -Lines $b.Lines -Where "$f -$($current.Name)")) }
        else { foreach ($p in Get-ParagraphText @($b)) { $current.Description.Add($p) } }
    }
    foreach ($p in $parameters) {
        if ($p.Yaml.Count -eq 0) { throw "${f}: the parameter -$($p.Name) has no yaml block." }
        if ($p.Description.Count -eq 0) { throw "${f}: the parameter -$($p.Name) has no description." }
        foreach ($y in $p.Yaml) {
            foreach ($s in $y.Sets) {
                if ($s -ne '(All)' -and $s -notin $setNames) { throw "${f}: -$($p.Name) names the parameter set '$s', which SYNTAX does not have." }
            }
        }
    }
    $dupes = @($parameters | Group-Object Name | Where-Object Count -GT 1)
    if ($dupes) { throw "${f}: the parameter -$($dupes[0].Name) is documented twice." }

    $typed = {
        param([string] $Section)
        $items = [System.Collections.Generic.List[object]]::new()
        $cur = $null
        if (-not $page.Sections.Contains($Section)) { return , $items.ToArray() }
        foreach ($b in $page.Sections[$Section]) {
            if ($b.Kind -eq 'Heading') {
                $cur = [pscustomobject]@{ Type = (ConvertFrom-InlineMarkdown $b.Text); Description = [System.Collections.Generic.List[string]]::new() }
                $items.Add($cur)
            }
            elseif ($null -eq $cur) { throw "${f}: text in $Section before the first '### Type' heading." }
            else { foreach ($p in Get-ParagraphText @($b)) { $cur.Description.Add($p) } }
        }
        , $items.ToArray()
    }

    $links = [System.Collections.Generic.List[object]]::new()
    if ($page.FrontMatter['online version']) {
        $links.Add([pscustomobject]@{ Text = 'Online Version:'; Uri = $page.FrontMatter['online version'] })
    }
    if ($page.Sections.Contains('RELATED LINKS')) {
        foreach ($b in $page.Sections['RELATED LINKS']) {
            foreach ($l in $b.Lines) {
                if ([string]::IsNullOrWhiteSpace($l)) { continue }
                if ($l -match '^\s*(?:[-*]\s+)?\[([^\]]+)\]\(([^)]*)\)\s*$') {
                    $uri = if ($Matches[2] -match '^https?://') { $Matches[2] } else { '' }
                    $links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = $uri })
                }
                elseif ($l -match '^\s*(?:[-*]\s+)?(\S.*?)\s*$') {
                    $links.Add([pscustomobject]@{ Text = $Matches[1]; Uri = '' })
                }
            }
        }
    }

    [pscustomobject]@{
        Name        = $page.Title
        Synopsis    = $synopsis
        Description = $description
        SetNames    = $setNames
        Parameters  = $parameters.ToArray()
        Examples    = $examples.ToArray()
        Inputs      = & $typed 'INPUTS'
        Outputs     = & $typed 'OUTPUTS'
        Notes       = if ($page.Sections.Contains('NOTES')) { @(Get-ParagraphText $page.Sections['NOTES']) } else { @() }
        Links       = $links.ToArray()
    }
}

function Write-Para {
    param([System.Xml.XmlWriter] $Writer, [string[]] $Text)

    foreach ($t in $Text) {
        $Writer.WriteStartElement('maml', 'para', $script:MamlNs)
        $Writer.WriteString($t)
        $Writer.WriteEndElement()
    }
}

function Write-MamlParameter {
    param([System.Xml.XmlWriter] $Writer, [object] $Parameter, [object] $Yaml, [switch] $InSyntax)

    $w = $Writer
    $isSwitch = $Yaml.Type -in 'SwitchParameter', 'System.Management.Automation.SwitchParameter'
    $w.WriteStartElement('command', 'parameter', $script:CommandNs)
    $w.WriteAttributeString('required', $Yaml.Required.ToString().ToLowerInvariant())
    $w.WriteAttributeString('variableLength', $Yaml.Type.EndsWith('[]').ToString().ToLowerInvariant())
    $w.WriteAttributeString('globbing', $Yaml.Globbing.ToString().ToLowerInvariant())
    $w.WriteAttributeString('pipelineInput', $Yaml.Pipeline)
    $w.WriteAttributeString('position', $Yaml.Position)
    $w.WriteAttributeString('aliases', $(if ($Yaml.Aliases) { $Yaml.Aliases } else { 'none' }))
    $w.WriteElementString('maml', 'name', $script:MamlNs, $Parameter.Name)
    $w.WriteStartElement('maml', 'description', $script:MamlNs)
    Write-Para $w $Parameter.Description
    $w.WriteEndElement()
    # A switch has no value in syntax; Get-Help would otherwise print "-ArpSuppression <SwitchParameter>".
    if (-not ($isSwitch -and $InSyntax)) {
        $w.WriteStartElement('command', 'parameterValue', $script:CommandNs)
        $w.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $w.WriteAttributeString('variableLength', 'false')
        $w.WriteString($Yaml.Type)
        $w.WriteEndElement()
    }
    $w.WriteStartElement('dev', 'type', $script:DevNs)
    $w.WriteElementString('maml', 'name', $script:MamlNs, $Yaml.Type)
    $w.WriteElementString('maml', 'uri', $script:MamlNs, '')
    $w.WriteEndElement()
    $w.WriteElementString('dev', 'defaultValue', $script:DevNs, $Yaml.Default)
    $w.WriteEndElement()
}

function Write-MamlCommand {
    param([System.Xml.XmlWriter] $Writer, [object] $Page)

    $w = $Writer
    $verb, $noun = $Page.Name.Split('-', 2)
    $w.WriteStartElement('command', 'command', $script:CommandNs)
    $w.WriteAttributeString('xmlns', 'maml', $null, $script:MamlNs)
    $w.WriteAttributeString('xmlns', 'command', $null, $script:CommandNs)
    $w.WriteAttributeString('xmlns', 'dev', $null, $script:DevNs)

    $w.WriteStartElement('command', 'details', $script:CommandNs)
    $w.WriteElementString('command', 'name', $script:CommandNs, $Page.Name)
    $w.WriteElementString('command', 'verb', $script:CommandNs, $verb)
    $w.WriteElementString('command', 'noun', $script:CommandNs, $noun)
    $w.WriteStartElement('maml', 'description', $script:MamlNs)
    Write-Para $w $Page.Synopsis
    $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('maml', 'description', $script:MamlNs)
    Write-Para $w $Page.Description
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'syntax', $script:CommandNs)
    foreach ($set in $Page.SetNames) {
        $inSet = foreach ($p in $Page.Parameters) {
            $y = $p.Yaml.Where({ $_.Sets -contains '(All)' -or $_.Sets -contains $set }, 'First')
            if ($y) { [pscustomobject]@{ Parameter = $p; Yaml = $y[0] } }
        }
        # PowerShell's own order: positional parameters by position, then mandatory, then the rest as documented.
        $ordered = @($inSet | Sort-Object -Stable -Property @(
                @{ Expression = { if ($_.Yaml.Position -eq 'named') { 1 } else { 0 } } }
                @{ Expression = { if ($_.Yaml.Position -eq 'named') { 0 } else { [int]$_.Yaml.Position } } }
                @{ Expression = { if ($_.Yaml.Required) { 0 } else { 1 } } }))
        $w.WriteStartElement('command', 'syntaxItem', $script:CommandNs)
        $w.WriteElementString('maml', 'name', $script:MamlNs, $Page.Name)
        foreach ($item in $ordered) { Write-MamlParameter $w $item.Parameter $item.Yaml -InSyntax }
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'parameters', $script:CommandNs)
    foreach ($p in $Page.Parameters) { Write-MamlParameter $w $p $p.Yaml[0] }
    $w.WriteEndElement()

    foreach ($kind in @(@('inputTypes', 'inputType', $Page.Inputs), @('returnValues', 'returnValue', $Page.Outputs))) {
        $w.WriteStartElement('command', $kind[0], $script:CommandNs)
        foreach ($t in $kind[2]) {
            $w.WriteStartElement('command', $kind[1], $script:CommandNs)
            $w.WriteStartElement('dev', 'type', $script:DevNs)
            $w.WriteElementString('maml', 'name', $script:MamlNs, $t.Type)
            $w.WriteEndElement()
            $w.WriteStartElement('maml', 'description', $script:MamlNs)
            Write-Para $w $t.Description
            $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()
    }

    $w.WriteStartElement('maml', 'alertSet', $script:MamlNs)
    $w.WriteStartElement('maml', 'alert', $script:MamlNs)
    Write-Para $w $Page.Notes
    $w.WriteEndElement()
    $w.WriteEndElement()

    $w.WriteStartElement('command', 'examples', $script:CommandNs)
    foreach ($e in $Page.Examples) {
        $w.WriteStartElement('command', 'example', $script:CommandNs)
        $w.WriteElementString('maml', 'title', $script:MamlNs, "---------- $($e.Title) ----------")
        $w.WriteElementString('dev', 'code', $script:DevNs, ($e.Code -join "`n`n"))
        $w.WriteStartElement('dev', 'remarks', $script:DevNs)
        Write-Para $w $e.Remarks
        $w.WriteEndElement()
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteStartElement('maml', 'relatedLinks', $script:MamlNs)
    foreach ($l in $Page.Links) {
        $w.WriteStartElement('maml', 'navigationLink', $script:MamlNs)
        $w.WriteElementString('maml', 'linkText', $script:MamlNs, $l.Text)
        $w.WriteElementString('maml', 'uri', $script:MamlNs, $l.Uri)
        $w.WriteEndElement()
    }
    $w.WriteEndElement()

    $w.WriteEndElement()
}

function ConvertTo-LvsMamlHelp {
    <#
    .SYNOPSIS
    Builds a MAML help file (<Assembly>.dll-Help.xml) from platyPS-style cmdlet pages.
    .PARAMETER DocsPath
    The folder of the markdown pages; every *.md except about_*.md is a cmdlet page.
    .PARAMETER OutputPath
    The MAML file to write.
    .PARAMETER CommandName
    Commands that must each have a page (the manifest's CmdletsToExport); the build fails if one is missing.
    #>
    [CmdletBinding()]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory)][string] $DocsPath,
        [Parameter(Mandatory)][string] $OutputPath,
        [string[]] $CommandName = @()
    )

    $files = @(Get-ChildItem -LiteralPath $DocsPath -Filter *.md -File | Where-Object Name -NotLike 'about_*' | Sort-Object Name)
    if ($files.Count -eq 0) { throw "No cmdlet pages (*.md) in '$DocsPath'." }
    $pages = foreach ($file in $files) {
        $page = Get-CommandPage -Path $file.FullName
        if ($page.Name -ne $file.BaseName) { throw "$($file.Name): the title '$($page.Name)' does not match the file name." }
        $page
    }
    foreach ($name in $CommandName) {
        if ($name -notin $pages.Name) { throw "The command '$name' has no help page '$name.md' in '$DocsPath'." }
    }

    $folder = Split-Path -Parent $OutputPath
    if ($folder) { $null = New-Item -ItemType Directory -Force -Path $folder }
    $settings = [System.Xml.XmlWriterSettings]::new()
    $settings.Indent = $true
    $settings.Encoding = [System.Text.UTF8Encoding]::new($false)
    $settings.NewLineChars = "`n"
    $writer = [System.Xml.XmlWriter]::Create($OutputPath, $settings)
    try {
        $writer.WriteStartDocument()
        $writer.WriteStartElement('helpItems', $script:MshNs)
        $writer.WriteAttributeString('schema', 'maml')
        foreach ($page in $pages) { Write-MamlCommand $writer $page }
        $writer.WriteEndElement()
        $writer.WriteEndDocument()
    }
    finally {
        $writer.Dispose()
    }
    Write-Verbose "Wrote help for $(@($pages).Count) command(s) to $OutputPath"
    Get-Item -LiteralPath $OutputPath
}

function Format-WrappedText {
    # Word-wraps one paragraph; a word longer than the line (a URL) gets a line of its own.
    param([string] $Text, [int] $Indent, [int] $HangingIndent = $Indent, [int] $Width = 80)

    $lines = [System.Collections.Generic.List[string]]::new()
    $line = ' ' * $Indent
    $empty = $true
    foreach ($word in ($Text -split '\s+').Where({ $_ })) {
        if (-not $empty -and $line.Length + 1 + $word.Length -gt $Width) {
            $lines.Add($line)
            $line = ' ' * $HangingIndent
            $empty = $true
        }
        $line += $(if ($empty) { $word } else { ' ' + $word })
        $empty = $false
    }
    if (-not $empty) { $lines.Add($line) }
    $lines
}

function ConvertTo-LvsAboutHelp {
    <#
    .SYNOPSIS
    Turns an about_*.md page into the about_*.help.txt text Get-Help shows, wrapped at 80 columns.
    .PARAMETER Path
    The markdown page (its '# about_Name' title names the topic).
    .PARAMETER OutputPath
    The .help.txt file to write.
    #>
    [CmdletBinding()]
    [OutputType([System.IO.FileInfo])]
    param(
        [Parameter(Mandatory)][string] $Path,
        [Parameter(Mandatory)][string] $OutputPath
    )

    $width = 80
    $page = Read-MarkdownPage -Path $Path
    if ($page.Title -notmatch '^about_\w+$') { throw "$($page.File): the title '$($page.Title)' is not an about_ topic name." }
    foreach ($s in 'SHORT DESCRIPTION', 'LONG DESCRIPTION') {
        if (-not $page.Sections.Contains($s)) { throw "$($page.File): the section '## $s' is missing." }
    }

    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC')
    $out.Add('    ' + $page.Title)
    foreach ($name in $page.Sections.Keys) {
        $out.Add('')
        $out.Add($name)
        # Text follows its heading directly; blocks are separated by one blank line.
        $afterHeading = $true
        $previous = $null
        foreach ($b in $page.Sections[$name]) {
            # Items of one list stay together.
            if (-not $afterHeading -and -not ($b.Kind -eq 'ListItem' -and $previous -eq 'ListItem')) { $out.Add('') }
            $afterHeading = $b.Kind -eq 'Heading'
            $previous = $b.Kind
            switch ($b.Kind) {
                'Heading' {
                    $out.AddRange([string[]]@(Format-WrappedText -Text (ConvertFrom-InlineMarkdown $b.Text) -Indent 2 -Width $width))
                }
                'Paragraph' {
                    $out.AddRange([string[]]@(Format-WrappedText -Text (ConvertFrom-InlineMarkdown ($b.Lines -join ' ')) -Indent 4 -Width $width))
                }
                'ListItem' {
                    $null = $b.Lines[0] -match '^\s*([-*+]|\d+[.)])\s+'
                    $marker = if ($Matches[1] -match '^[-*+]$') { '-' } else { $Matches[1] }
                    $text = ConvertFrom-InlineMarkdown (($b.Lines -join ' ') -replace '^\s*([-*+]|\d+[.)])\s+', '')
                    $wrapped = @(Format-WrappedText -Text $text -Indent 0 -Width ($width - 5 - $marker.Length))
                    for ($i = 0; $i -lt $wrapped.Count; $i++) {
                        $prefix = if ($i -eq 0) { "    $marker " } else { ' ' * (5 + $marker.Length) }
                        $out.Add($prefix + $wrapped[$i].TrimStart())
                    }
                }
                'Table' {
                    foreach ($l in $b.Lines) {
                        if ($l -match '^\s*\|[\s:|-]+\|\s*$') { continue }
                        $cells = @($l.Trim().Trim('|').Split('|').ForEach({ ConvertFrom-InlineMarkdown $_ }))
                        $out.AddRange([string[]]@(Format-WrappedText -Text ($cells -join ' | ') -Indent 4 -HangingIndent 8 -Width $width))
                    }
                }
                'Code' {
                    foreach ($l in $b.Lines) {
                        $codeLine = ('        ' + $l).TrimEnd()
                        if ($codeLine.Length -gt $width) {
                            throw "$($page.File): the code line '$l' is longer than $($width - 8) characters and cannot be wrapped."
                        }
                        $out.Add($codeLine)
                    }
                }
            }
        }
    }

    $folder = Split-Path -Parent $OutputPath
    if ($folder) { $null = New-Item -ItemType Directory -Force -Path $folder }
    [System.IO.File]::WriteAllText($OutputPath, (($out -join "`n") + "`n"), [System.Text.UTF8Encoding]::new($false))
    Get-Item -LiteralPath $OutputPath
}

Export-ModuleMember -Function ConvertTo-LvsMamlHelp, ConvertTo-LvsAboutHelp
