"""The page's words in Chinese and English: the interface's own strings (:data:`UI_STRINGS`),
labels, units and help texts of levers, assumptions and targets from the metadata tables, and
the lever groups in the order of the plan's sections.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from simulator.plan import tables

#: Languages of the interface; Chinese first (the default).
LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}
UI_STRINGS: dict[str, dict[str, str]] = {
    "app_title": {"zh": "广元市“十四五”科技创新和知识产权规划 · 情景模拟",
                  "en": "Guangyuan 14th-FYP S&T innovation and IP plan · scenario simulator"},
    "app_caption": {
        "zh": "系统动力学模型，从2020年基数出发模拟至2035年。数据能识别的参数按2015–2020年数据校准，其余取文献或假设值：结果表示模型结构的推演，不是预测。",
        "en": "A system-dynamics model run from the 2020 baselines to 2035. Parameters are "
              "calibrated to 2015–2020 data where the data identify them; the rest keep "
              "literature or assumed values: read results as what the structure implies, not "
              "as forecasts."},
    "language": {"zh": "语言 Language", "en": "Language 语言"},
    "meeting_mode": {"zh": "会议模式(大字号)", "en": "Meeting mode (large type)"},
    "preset": {"zh": "预设情景", "en": "Preset scenario"},
    "preset_help": {"zh": "scenarios/ 目录中的情景文件；上传的情景也会出现在这里。",
                    "en": "The scenario files in scenarios/; uploaded scenarios appear here too."},
    "uploaded_prefix": {"zh": "上传", "en": "uploaded"},
    "preset_invalid": {"zh": "scenarios/ 中的一个情景文件无效，未列入预设：",
                       "en": "A scenario file in scenarios/ is invalid and is not offered:"},
    "reset": {"zh": "恢复为预设值", "en": "Reset to preset"},
    "advanced": {"zh": "分期设定(2021–25 / 2026–30 / 2031–35)",
                 "en": "Set each plan period (2021–25 / 2026–30 / 2031–35)"},
    "advanced_help": {"zh": "关闭时，一个滑块同时设定三个规划期；打开后可分别设定每个规划期。",
                      "en": "Off: one slider sets all three plan periods. On: set each period "
                            "separately."},
    "levers": {"zh": "政策杠杆", "en": "Policy levers"},
    "budget": {"zh": "财政科技预算(亿元/年，规划期平均)",
               "en": "Fiscal S&T budget (100 million yuan a year, period average)"},
    "budget_period": {"zh": "规划期", "en": "period"},
    "budget_budget": {"zh": "科技预算", "en": "S&T budget"},
    "budget_requested": {"zh": "杠杆支出", "en": "lever outlays"},
    "budget_funded": {"zh": "到位率", "en": "funded"},
    "budget_other": {"zh": "其他来源", "en": "other sources"},
    "budget_help": {"zh": "当前设定每年的公共支出与财政科技支出对比，由模型逐年计算：13项杠杆的支出计入科技预算，"
                          "知识产权类4项计入知识产权管理预算，加计扣除计为减免的地方税收(其他来源)。"
                          "项目超出预算时按同一比例压缩执行，缺口即未到位的资金。",
                    "en": "The yearly public cost of the current settings against fiscal S&T "
                          "spending, computed by the model year by year: 13 levers are charged to "
                          "the S&T budget, the 4 IP levers to the IP administration budget, the "
                          "super-deduction as local tax forgone (other sources). When programmes "
                          "ask for more than the budget allows they are all scaled down by the "
                          "same share; the shortfall is the money that is not there."},
    "budget_over": {"zh": "超出科技预算：{periods}每年平均缺口 {gap} 亿元，项目按 {funded} 执行。"
                          "提高“财政科技支出年均增速”或减少项目。",
                    "en": "Over the S&T budget: {periods} short by {gap} (100 million yuan) a year "
                          "on average; programmes run at {funded}. Raise the growth of fiscal S&T "
                          "spending or cut programmes."},
    "budget_ok": {"zh": "科技预算足以支付当前设定。", "en": "The S&T budget covers the current settings."},
    "choose_targets": {"zh": "请选择目标", "en": "Choose targets"},
    "changed_row": {"zh": "上次调整后数值有变化", "en": "changed with the last move"},
    "changed_note": {"zh": "◆ 黄色底纹：上次调整设定后数值发生变化的目标({n}项)。",
                     "en": "◆ Yellow rows: targets whose value changed with the last move ({n})."},
    "drivers": {"zh": "推动目标的杠杆", "en": "What moves a target"},
    "drivers_help": {"zh": "每个杠杆在三个规划期都提高10%(取值为0时提高量程的10%，不超过上限)后，"
                           "该目标的模拟值变化多少；按影响大小排序。只看当前设定附近的局部效果："
                           "告诉你先动哪个杠杆，不告诉你动多少(见“怎样才能达成”)。",
                     "en": "How much the target's simulated value changes when each lever is "
                           "raised by 10 % in all three plan periods (by 10 % of its range where "
                           "it is 0, never past its maximum), largest effect first. A local "
                           "reading around the current settings: which lever to move first, not "
                           "how far (see “What would it take”)."},
    "drivers_target": {"zh": "目标", "en": "target"},
    "drivers_lever": {"zh": "杠杆", "en": "lever"},
    "drivers_move": {"zh": "提高10%", "en": "+10 %"},
    "drivers_effect": {"zh": "对目标的影响", "en": "effect on the target"},
    "drivers_cost": {"zh": "每年增加成本(万元)", "en": "extra cost (10k yuan a year)"},
    "drivers_direction": {"zh": "方向", "en": "direction"},
    "drivers_helps": {"zh": "有助达成", "en": "helps"},
    "drivers_hurts": {"zh": "不利", "en": "hurts"},
    "drivers_none": {"zh": "无影响", "en": "no effect"},
    "drivers_at_max": {"zh": "已达上限", "en": "at its maximum"},
    "drivers_apply": {"zh": "采用：{lever} 提高10%", "en": "Apply: {lever} +10 %"},
    "drivers_sentence": {"zh": "{lever}提高10%({before}→{after} {unit}) → {indicator}{year}年 {effect}",
                         "en": "{lever} +10 % ({before} → {after} {unit}) → {indicator} in {year}: "
                               "{effect}"},
    "assumptions": {"zh": "情景假设(非政策杠杆)", "en": "Scenario assumptions (not policy levers)"},
    "differs_by_period": {"zh": "分期设定：{values}。拖动滑块将把三个规划期设为同一值。",
                          "en": "Set by period: {values}. Moving the slider sets all three "
                                "periods to one value."},
    "help_clause": {"zh": "规划条款：{clause}", "en": "Plan clause: {clause}"},
    "help_effect": {"zh": "模型中的作用：{effect}", "en": "Effect in the model: {effect}"},
    "help_range": {"zh": "单位：{unit}；范围 {lo}–{hi}；2020年水平 {default}",
                   "en": "Unit: {unit}; range {lo}–{hi}; 2020 level {default}"},
    "help_source": {"zh": "依据：{source}", "en": "Source: {source}"},
    "upload": {"zh": "上传情景文件(YAML)", "en": "Upload a scenario (YAML)"},
    "upload_help": {"zh": "与命令行相同的严格校验；不超过1 MB(1,000,000字节)。",
                    "en": "Validated exactly as on the command line; at most 1 MB (1,000,000 "
                          "bytes)."},
    "upload_failed": {"zh": "无法读取该文件(已记入服务器日志)；请检查文件后重新上传。",
                      "en": "The file could not be read (logged on the server); check it and "
                            "upload it again."},
    "upload_too_big": {"zh": "{source}：文件为{size}字节，超过上限{limit}字节(1 MB)。",
                       "en": "{source}: the file is {size} bytes; at most {limit} (1 MB) "
                             "allowed."},
    "url_errors_more": {"zh": "另有{n}个无效参数未列出。", "en": "{n} more invalid parameters "
                        "not listed."},
    "restart": {"zh": "重新开始(清除本页的设置)", "en": "Start again (clears this page's settings)"},
    "crashed": {"zh": "出现意外错误，已记入服务器日志。请刷新页面；如仍出现，请联系管理员。",
                "en": "An unexpected error occurred and was logged on the server. Reload the "
                      "page; if it happens again, tell the administrator."},
    "upload_ok": {"zh": "已载入情景“{name}”。", "en": "Loaded scenario '{name}'."},
    "upload_bad": {"zh": "情景文件被拒绝，页面其余内容未改变：", "en": "Scenario file rejected; "
                   "nothing else on the page changed:"},
    "url_errors": {"zh": "链接中的以下参数无效，已忽略：",
                   "en": "These parameters of the link are invalid and were ignored:"},
    "dismiss": {"zh": "知道了", "en": "Dismiss"},
    "tab_scorecard": {"zh": "目标记分卡", "en": "Scorecard"},
    "tab_trajectories": {"zh": "指标走势", "en": "Trajectories"},
    "tab_compare": {"zh": "情景比较", "en": "Compare"},
    "tab_export": {"zh": "导出与分享", "en": "Export and share"},
    "current": {"zh": "当前设置", "en": "Current settings"},
    "modified": {"zh": "已调整", "en": "adjusted"},
    "reference": {"zh": "参照情景", "en": "Reference scenario"},
    "targets_met": {"zh": "达成目标", "en": "Targets met"},
    "doubling_met": {"zh": "“四个倍增”达成", "en": "Doubling targets met"},
    "goals_2035_met": {"zh": "2035年目标达成", "en": "2035 goals met"},
    "vs_reference": {"zh": "较{name}", "en": "vs {name}"},
    "col_indicator": {"zh": "指标", "en": "Indicator"},
    "col_year": {"zh": "年份", "en": "Year"},
    "col_target": {"zh": "目标", "en": "Target"},
    "col_value": {"zh": "模拟值", "en": "Simulated"},
    "col_status": {"zh": "结果", "en": "Result"},
    "col_margin": {"zh": "差距", "en": "Margin"},
    "col_first": {"zh": "首次达成", "en": "First met"},
    "col_unit": {"zh": "单位", "en": "Unit"},
    "met": {"zh": "✓ 达成", "en": "✓ met"},
    "missed": {"zh": "✗ 未达成", "en": "✗ missed"},
    "never": {"zh": "—", "en": "—"},
    "doubling_note": {"zh": "★ “四个倍增”指标。年均增速目标按2020年起的年均增长计算。差距为正表示超出目标。",
                      "en": "★ the four doubling indicators. Growth targets are average annual "
                            "growth from 2020. A positive margin means the target is exceeded."},
    "count_row": {"zh": "达成目标数", "en": "Targets met"},
    "cagr_suffix": {"zh": "(年均增速)", "en": "(average annual growth)"},
    "year": {"zh": "年份", "en": "Year"},
    "target": {"zh": "规划目标", "en": "Plan target"},
    "target_legend": {
        "zh": "◆ 红色菱形为规划目标(2025年、2035年)；年均增速目标按2020年值折算为对应水平。",
        "en": "◆ Red diamonds mark the plan's 2025 and 2035 targets; growth targets are drawn "
              "at the level they imply from the 2020 value."},
    "key_charts": {"zh": "关键指标走势", "en": "Key indicators"},
    "all_charts": {"zh": "全部指标走势(2020–2035)", "en": "All indicators, 2020–2035"},
    "detail": {"zh": "单个指标详图", "en": "One indicator in detail"},
    "save_name": {"zh": "方案名称", "en": "Scenario name"},
    "save": {"zh": "保存当前设置用于比较", "en": "Save current settings for comparison"},
    "saved_ok": {"zh": "已保存“{name}”。", "en": "Saved '{name}'."},
    "save_full": {"zh": "最多保存{n}个方案；请先删除一个。",
                  "en": "At most {n} scenarios can be saved; delete one first."},
    "save_duplicate": {"zh": "已有名为“{name}”的方案。", "en": "A scenario named '{name}' is "
                       "already saved."},
    "saved_list": {"zh": "已保存的方案", "en": "Saved scenarios"},
    "load": {"zh": "载入", "en": "Load"},
    "delete": {"zh": "删除", "en": "Delete"},
    "nothing_saved": {"zh": "尚未保存方案。保存后可并排比较记分卡、叠加比较走势(当前设置始终列在最后)。",
                      "en": "No scenario saved yet. Saved scenarios are compared side by side "
                            "and overlaid (the current settings are always shown last)."},
    "compare_scorecards": {"zh": "记分卡并排比较", "en": "Scorecards side by side"},
    "compare_trajectories": {"zh": "走势叠加比较", "en": "Trajectories overlaid"},
    "export_scenario": {"zh": "情景文件(YAML，可再次上传)", "en": "Scenario file (YAML, "
                        "uploads again)"},
    "export_results_csv": {"zh": "模拟结果(CSV)", "en": "Results (CSV)"},
    "export_scorecard_csv": {"zh": "记分卡(CSV)", "en": "Scorecard (CSV)"},
    "export_excel": {"zh": "结果与记分卡(Excel)", "en": "Results and scorecard (Excel)"},
    "export_figures": {"zh": "幻灯片图表包(PNG + PDF，ZIP)", "en": "Figure pack for slides "
                       "(PNG + PDF, ZIP)"},
    "export_note": {"zh": "导出内容为当前设置及参照情景。Excel和图表包在点击时生成(约需数秒)。",
                    "en": "Exports hold the current settings and the reference scenario. The "
                          "Excel file and figure pack are made when clicked (a few seconds)."},
    "share": {"zh": "分享链接", "en": "Share link"},
    "share_help": {"zh": "浏览器地址栏中的链接已包含当前设置(只记录与预设不同的值)；复制即可分享。",
                   "en": "The address bar already holds the current settings (only values that "
                         "differ from the preset); copy it to share."},
    "no_cjk_font": {"zh": "服务器未安装中文字体(fonts-noto-cjk)，图表包改用英文标签。",
                    "en": "No CJK font on the server (fonts-noto-cjk); the figure pack uses "
                          "English labels."},
    "scenario_label": {"zh": "情景", "en": "Scenario"},
    "periods": {"zh": "规划期", "en": "Plan periods"},
    # uncertainty switch
    "uncertainty": {"zh": "不确定性分析", "en": "Uncertainty"},
    "uncertainty_help": {
        "zh": "打开后，模型的不确定常数按 models/uncertainty.yaml 的分布抽样{n}次(拉丁超立方，种子{seed})，"
              "记分卡给出每个目标的达成概率和5%–95%区间，走势图在当前设置的曲线后画出5%–95%区间带。"
              "每次调整滑块都会重新计算(约需1秒)。",
        "en": "On: the model's uncertain constants are drawn {n} times from the distributions of "
              "models/uncertainty.yaml (Latin hypercube, seed {seed}); the scorecard gives each "
              "target's probability of being met and its 5–95 % range, and the charts draw the "
              "5–95 % band behind the current settings. Recomputed on every slider move (about "
              "a second)."},
    "col_probability": {"zh": "达成概率", "en": "Probability"},
    "col_range": {"zh": "5%–95%区间", "en": "5–95 % range"},
    "uncertainty_note": {
        "zh": "达成概率：{n}次不确定常数抽样(种子{seed})中达成目标的比例；区间为模拟值的第5至第95百分位。"
              "“模拟值”和“结果”仍为确定性模拟(常数取模型值)。",
        "en": "Probability: the share of {n} draws of the uncertain constants (seed {seed}) that "
              "meet the target; the range runs from the 5th to the 95th percentile of the "
              "simulated value. 'Simulated' and 'Result' are still the deterministic run "
              "(constants at the model's values)."},
    "uncertainty_kept": {
        "zh": "抽样经2015–2020年观测检验(历史匹配，不合理度≤{cut})：共抽{drawn}次，保留与观测一致的{kept}次。",
        "en": "The draws are conditioned on the 2015–2020 observations (history matching, "
              "implausibility ≤ {cut}): {kept} kept of {drawn} drawn."},
    "band_label": {"zh": "5%–95%区间", "en": "5–95 % range"},
    "band_legend": {"zh": "浅色带：当前设置在参数不确定性下的5%–95%区间({n}次抽样)。",
                    "en": "Shaded band: the 5–95 % range of the current settings under parameter "
                          "uncertainty ({n} draws)."},
    # what would it take (solver)
    "tab_solve": {"zh": "怎样才能达成", "en": "What would it take"},
    "solve_intro": {
        "zh": "求解器寻找达成所选目标的成本最低的杠杆设定(成本为高于2020年水平的支出，见 "
              "models/lever_costs.csv)。每个杠杆在最后一个目标年份之前的规划期内取同一水平，"
              "下限为2020年水平、上限为滑块最大值；情景假设和之后规划期的杠杆保持当前设置。",
        "en": "The solver looks for the cheapest lever settings that reach the chosen targets "
              "(cost: spending above the 2020 levels, models/lever_costs.csv). Each lever takes "
              "one level over the plan periods up to the last target year, between its 2020 "
              "level and the slider's maximum; the assumptions and later periods keep the "
              "current settings."},
    "solve_targets": {"zh": "要达成的目标", "en": "Targets to reach"},
    "solve_probability": {"zh": "要求达成概率", "en": "Require a probability"},
    "solve_probability_help": {
        "zh": "关闭：确定性模拟达成即可。打开：每个目标须在{n}次不确定常数抽样中至少按所选比例达成(较慢，约需半分钟)。",
        "en": "Off: met in the deterministic run. On: each target met in at least the chosen "
              "share of {n} draws of the uncertain constants (slower, about half a minute)."},
    "solve_p": {"zh": "达成概率不低于", "en": "Probability at least"},
    "solve_run": {"zh": "求解", "en": "Find the cheapest settings"},
    "solve_running": {"zh": "正在求解(数秒至半分钟)…", "en": "Solving (seconds to half a minute)…"},
    "solve_none": {"zh": "请至少选择一个目标。", "en": "Choose at least one target."},
    "solve_how_det": {"zh": "(确定性模拟)", "en": " in the deterministic run"},
    "solve_how_p": {"zh": "(每个目标达成概率不低于{p})", "en": ", each with probability at least {p}"},
    "solve_reachable": {"zh": "可以达成：所选{n}个目标{how}均可达成，成本最低的设定如下。",
                        "en": "Reachable: the {n} chosen target(s) are met{how} with the "
                              "cheapest settings below."},
    "solve_unreachable": {
        "zh": "在杠杆范围内无法达成{how}。下表为最接近的设定，仍未达成：{missed}。",
        "en": "Cannot be reached within the lever bounds{how}. The table shows the closest "
              "achievable settings; they still miss: {missed}."},
    "solve_binding": {"zh": "约束最紧的目标：{names}", "en": "Binding target(s): {names}"},
    "solve_for": {"zh": "求解时的设置：{name}；目标：{targets}", "en": "Solved for: {name}; targets: "
                  "{targets}"},
    "col_lever": {"zh": "杠杆", "en": "Lever"},
    "col_level_2020": {"zh": "2020年水平", "en": "2020 level"},
    "col_proposed": {"zh": "建议值({periods})", "en": "Proposed ({periods})"},
    "col_cost": {"zh": "成本(万元/年)", "en": "Cost (万元 a year)"},
    "solve_cost": {"zh": "合计：每年 {annual} 万元 × {years} 年 = {total} 万元(高于2020年水平的支出)。",
                   "en": "Total: {annual} 万元 (10,000 yuan) a year × {years} years = {total} "
                         "万元, spending above the 2020 levels."},
    "solve_apply": {"zh": "应用到滑块", "en": "Apply to the sliders"},
    "solve_apply_help": {
        "zh": "把建议值写入{periods}的杠杆设定(按滑块步长向上取整)；之后的规划期不变。",
        "en": "Writes the proposed values into the lever settings of {periods} (rounded up to "
              "each slider's step); later periods stay as they are."},
    "solve_applied": {"zh": "已应用到滑块，记分卡已按新设置更新。",
                      "en": "Applied to the sliders; the scorecard shows the new settings."},
    # solver honesty (issue 14 item 8): the central run, unreachable targets, floors
    "solve_central": {"zh": "同时要求中心运行达成", "en": "Also require the central run"},
    "solve_central_help": {
        "zh": "中心运行即记分卡所示的模拟(校准后的常数)。它只是不确定性集合中的一个点，不是其中位数："
              "只要求概率时，建议可能比确定性求解更便宜，而应用后记分卡仍显示未达成。打开(默认)："
              "建议同时满足概率和中心运行。",
        "en": "The central run is the simulation the scorecard shows (the calibrated constants). "
              "It is one point of the uncertainty ensemble, not its median: with the "
              "probability alone, the proposal can cost less than the deterministic one and the "
              "scorecard still show a target missed after applying it. On (default): the "
              "proposal meets both the probability and the central run."},
    "solve_floors": {"zh": "保留情景已实施的措施(作为下限)", "en": "Keep the scenario's measures as floors"},
    "solve_floors_help": {
        "zh": "打开：建议不会削减当前情景实施的任何措施(每个杠杆的下限为当前设置)。关闭(默认)：下限为2020年水平。"
              "成本仍按高于2020年水平的支出计算。",
        "en": "On: proposals never cut a measure the scenario enacts (each lever's lower bound "
              "is its current setting). Off (default): the lower bound is the 2020 level. The "
              "cost is still the spending above the 2020 levels."},
    "solve_unreachable_closest": {
        "zh": "在杠杆范围内无法达成{how}。下表为成本最低的最接近设定(与最佳可达点的差距相差不超过目标的{tol})，"
              "仍未达成：{missed}。",
        "en": "Cannot be reached within the lever bounds{how}. The table shows the closest "
              "affordable settings (the cheapest within {tol} of each target of the best "
              "reachable point); they still miss: {missed}."},
    "solve_note_short": {"zh": "约束：即使在最佳可达点，{target}仍比目标低{short}。",
                         "en": "Binding: even at the best reachable point, {target} falls short "
                               "of its target by {short}."},
    "solve_note_bound": {"zh": "在最佳可达点处于上限、再提高仍有帮助的杠杆：{names}。",
                         "en": "Levers at their maximum there that bind (raising them further "
                               "would help): {names}."},
    "solve_note_bound_none": {
        "zh": "在最佳可达点没有处于上限且起作用的杠杆：限制来自其他目标或杠杆之间的相互作用。",
        "en": "No lever at its maximum binds at the best reachable point: other targets or the "
              "levers' interplay limit it."},
    "solve_note_cost": {"zh": "建议设定每年 {annual} 万元，而最佳可达点每年需 {best} 万元。",
                        "en": "The proposal costs {annual} 万元 a year, against {best} 万元 a "
                              "year at the best reachable point."},
    "solve_note_central_ok": {"zh": "建议设定在中心运行(记分卡所示)中也达成全部所选目标。",
                              "en": "The settings also meet every chosen target in the central "
                                    "run (what the scorecard shows)."},
    "solve_note_central_miss": {
        "zh": "{target}：中心运行(记分卡所示)未达成(差距{margin})，但{p}的抽样达成。中心运行只是集合中的一个点："
              "{below}的抽样低于它，{above}的抽样高于它；因此按抽样计算的概率可以达到，而中心运行仍然不足。"
              "打开“同时要求中心运行达成”可两者兼顾。",
        "en": "{target}: the central run (what the scorecard shows) misses it (margin {margin}) "
              "although {p} of the draws meet it. The central run is one point of the "
              "ensemble: {below} of the draws lie below it and {above} above, so a probability "
              "counted over the draws can be reached while the central run falls short. Switch "
              "on \"Also require the central run\" to meet both."},
    "col_central_margin": {"zh": "中心运行差距", "en": "Central run margin"},
    "col_central_quantile": {"zh": "低于中心运行的抽样", "en": "Draws below the central run"},
    "col_best_margin": {"zh": "最佳可达点差距", "en": "At the best reachable point"},
    "col_required_margin": {"zh": "所需分位处差距", "en": "Margin at the required quantile"},
    # sensitivity
    "tab_sensitivity": {"zh": "敏感性分析", "en": "Sensitivity"},
    "sens_target": {"zh": "目标", "en": "Target"},
    "sens_intro": {
        "zh": "Morris基本效应筛选({trajectories}条轨迹，{runs}次模拟，种子{seed})：每个政策杠杆在其全部范围内变化"
              "(三个规划期同一值)，每个不确定常数在 models/uncertainty.yaml 的范围内变化，其余保持当前设置。"
              "μ*为输入从最小变到最大时目标值的平均绝对变化(目标单位)，误差线为95%置信区间。",
        "en": "Morris elementary-effects screen ({trajectories} trajectories, {runs} runs, seed "
              "{seed}): each policy lever varies over its whole range (one value for all three "
              "periods), each uncertain constant over its range in models/uncertainty.yaml; "
              "everything else keeps the current settings. μ* is the mean absolute change of "
              "the target when the input moves across its range (in the target's unit); error "
              "bars are 95 % confidence intervals."},
    "sens_running": {"zh": "正在计算敏感性…", "en": "Computing the sensitivity…"},
    "col_rank": {"zh": "排名", "en": "Rank"},
    "col_input": {"zh": "输入", "en": "Input"},
    "col_kind": {"zh": "类型", "en": "Kind"},
    "kind_lever": {"zh": "政策杠杆", "en": "policy lever"},
    "kind_constant": {"zh": "不确定常数", "en": "uncertain constant"},
    "col_mu_star": {"zh": "μ*(目标单位)", "en": "μ* (target unit)"},
    "col_conf": {"zh": "95%置信区间半宽", "en": "95 % CI half-width"},
    # Monitoring: actuals against the plan (issue 13)
    "upload_actuals": {"zh": "上传实际值(CSV)", "en": "Upload actuals (CSV)"},
    "upload_actuals_help": {
        "zh": "统计部门公布(或尚未公布)的指标实际值：列 indicator,year,value(可选 kind, source, "
              "note)，指标代码与单位同 models/indicators.csv；与命令行 hindcast --observed "
              "相同的严格校验；不超过1 MB。",
        "en": "Observed values of the indicators (published or not yet published): columns "
              "indicator,year,value (optional kind, source, note), ids and units as in "
              "models/indicators.csv; validated exactly as hindcast --observed on the command "
              "line; at most 1 MB."},
    #: shown in both languages whatever the page's language (docs/app.md, "Monitoring")
    "actuals_private": {
        "zh": "实际值只保存在本次会话中(不写入磁盘)，从不写入分享链接(可能是尚未公布的数据)。",
        "en": "Actuals stay in this session (never written to disk) and are never put in the "
              "share link (they may be figures not yet published)."},
    "actuals_ok": {"zh": "已载入实际值“{name}”：{n}条，{k}个指标，最晚{year}年。",
                   "en": "Loaded actuals '{name}': {n} rows, {k} indicators, latest {year}."},
    "actuals_bad": {"zh": "实际值文件被拒绝，页面其余内容未改变：",
                    "en": "Actuals file rejected; nothing else on the page changed:"},
    "actuals_table": {"zh": "已上传的实际值", "en": "Uploaded actuals"},
    "actual_level": {"zh": "实际值", "en": "actual"},
    "actual_lower_bound": {"zh": "实际值下限(“突破…”)", "en": "actual, lower bound"},
    "actual_upper_bound": {"zh": "实际值上限(“不超过…”)", "en": "actual, upper bound"},
    "col_actual": {"zh": "最新实际值(年份)", "en": "Latest actual (year)"},
    "col_progress": {"zh": "完成进度", "en": "Progress 完成进度"},
    "col_time_progress": {"zh": "时间进度", "en": "Time elapsed"},
    "progress_help": {
        "zh": "完成进度 = (最新实际值 − 2020年值) ÷ (目标值 − 2020年值) × 100%；增速目标为 "
              "2020年以来实际年均增速 ÷ 目标增速 × 100%。超过100%为超额完成，负值为背离目标"
              "(均不截断)；实际值为下限/上限时显示“≥”/“≤”；2020年值等于目标值或无法计算时显示“—”。"
              "时间进度 = (实际值年份 − 2020) ÷ (目标年份 − 2020) × 100%。",
        "en": "Progress = (latest actual − 2020 value) ÷ (target − 2020 value) × 100 %; for a "
              "growth target, the average annual growth achieved since 2020 ÷ the growth "
              "required × 100 %. Above 100 %: exceeded; negative: moved away from the target "
              "(neither is clipped); an actual that is a lower/upper bound gives '≥'/'≤'; '—' "
              "where the 2020 value equals the target or nothing can be computed. Time elapsed "
              "= (year of the actual − 2020) ÷ (target year − 2020) × 100 %."},
    "recalibrated": {"zh": "按实际值重新校准", "en": "Recalibrated to the actuals"},
    "recalibrated_help": {
        "zh": "用截至最新实际值年份的全部数据(2015–2020年校准数据加上传的实际值)重新拟合参数，"
              "再运行当前情景；图表和记分卡同时显示默认校准与重新校准两种预测。2020年后的实际值与"
              "“规划实施”情景(scenarios/plan.yaml)比较；多起点拟合取{starts}个起点；同一文件只拟合一次。",
        "en": "Refit the parameters to all data up to the latest actual (the 2015–2020 "
              "calibration data plus the uploaded actuals) and run the current scenario again; "
              "charts and scorecard show both projections, default and recalibrated. Actuals "
              "after 2020 are compared with the plan as enacted (scenarios/plan.yaml); the "
              "multi-start fit uses {starts} starts; one fit per file."},
    "recalibrating": {"zh": "正在按实际值重新校准(需数秒)…",
                      "en": "Recalibrating to the actuals (takes seconds)…"},
    "recal_label": {"zh": "重新校准", "en": "recalibrated"},
    "recal_failed": {"zh": "无法按这些实际值重新校准(只显示默认校准的预测)：",
                     "en": "Cannot recalibrate to these actuals (the default-calibrated "
                           "projection only):"},
    "col_recal": {"zh": "重新校准后模拟值", "en": "Simulated, recalibrated"},
    # The 15th FYP: 2030 milestones toward the 2035 goals (simulator.analysis.milestones)
    "tab_milestones": {"zh": "十五五 目标测算", "en": "15th FYP milestones"},
    "ms_intro": {
        "zh": "在2021–2025年按当前情景实施的前提下，求2026–2030、2031–2035年成本最低、能达成所选"
              "2035年目标的政策杠杆路径(当前情景的杠杆水平为下限)，读出该路径2030年的各指标值，"
              "作为“十五五”目标表的草案。2025年值：有上传实际值时取2025年及以前最新的实际值，否则为模拟值。",
        "en": "With 2021–2025 as the current scenario enacts it, the lowest-cost lever path for "
              "2026–2030 and 2031–2035 that meets the chosen 2035 goals (the scenario's levels "
              "as floors), and the 2030 value of every indicator on it: a draft target table for "
              "the 15th FYP. 2025 value: the latest uploaded actual up to 2025 if any, else "
              "simulated."},
    "ms_goals": {"zh": "2035年目标", "en": "2035 goals"},
    "ms_run": {"zh": "测算2030年目标(约需半分钟)", "en": "Compute the 2030 milestones (about "
               "half a minute)"},
    "ms_running": {"zh": "正在求成本最低的杠杆路径…", "en": "Finding the lowest-cost lever path…"},
    "ms_none": {"zh": "请至少选择一个2035年目标。", "en": "Choose at least one 2035 goal."},
    "ms_for": {"zh": "情景：{name}；目标：{goals}", "en": "Scenario: {name}; goals: {goals}"},
    "ms_stale": {"zh": "以下结果对应之前的设置；设置已改变，请重新测算。",
                 "en": "The results below are for earlier settings; the settings have changed: "
                       "compute again."},
    "ms_table": {"zh": "2030年目标草案", "en": "Draft 2030 targets"},
    "ms_levers": {"zh": "所依据的杠杆路径(与当前情景不同的杠杆和时期)",
                  "en": "The lever path it rests on (levers and periods changed from the "
                        "scenario)"},
    "ms_levers_none": {"zh": "当前情景的杠杆已足以达成目标，路径未作改变。",
                       "en": "The scenario's levers already meet the goals: the path changes "
                             "nothing."},
    "ms_export": {"zh": "下载测算结果(CSV)", "en": "Download the milestones (CSV)"},
    "ms_col_2025": {"zh": "2025年值", "en": "2025 value"},
    "ms_col_source": {"zh": "来源", "en": "Source"},
    "ms_col_2030": {"zh": "2030年目标(测算)", "en": "2030 milestone"},
    "ms_col_2035": {"zh": "2035年目标", "en": "2035 goal"},
    "ms_col_path_2035": {"zh": "路径上的2035年值", "en": "2035 on the path"},
    "ms_col_growth": {"zh": "所需年均增速(%/年)", "en": "Required growth (% a year)"},
    "ms_col_period": {"zh": "时期", "en": "Period"},
    "ms_col_scenario": {"zh": "当前情景", "en": "Scenario"},
    "ms_col_path": {"zh": "路径", "en": "Path"},
    "ms_src_actual": {"zh": "实际值({year})", "en": "actual ({year})"},
    "ms_src_simulated": {"zh": "模拟值", "en": "simulated"},
}


def ui(key: str, lang: str, **fmt: Any) -> str:
    """The interface string ``key`` in ``lang``, formatted with ``fmt``."""
    text = UI_STRINGS[key][lang if lang in LANGS else DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


#: The short message shown, in both languages, when the page itself fails (the traceback goes
#: to the server's log, never to the visitor).
CRASH_MESSAGE = f"{UI_STRINGS['crashed']['zh']}  \n{UI_STRINGS['crashed']['en']}"


def label(item: Any, lang: str) -> str:
    """The Chinese or English name of a lever, assumption, indicator or target."""
    return item.name_en if lang == "en" else item.name_zh


def unit(item: Any, lang: str) -> str:
    """The Chinese or English unit of a lever, assumption or indicator."""
    return item.unit_en if lang == "en" else item.unit_zh


def plain_number(value: float) -> str:
    """A number as short plain text: ``30``, ``0.25``, ``-0.7`` (round-trips through float)."""
    if value == 0:
        return "0"
    return f"{float(value):.12g}"


def step_decimals(*numbers: float) -> int:
    """Decimal places needed to show every number exactly (at most 6)."""
    out = 0
    for x in numbers:
        text = f"{float(x):.6f}".rstrip("0")
        out = max(out, len(text.split(".")[1]) if "." in text else 0)
    return out


def slider_format(item: Any, values: Iterable[float] = ()) -> str:
    """A printf format for a lever's or assumption's slider that shows its values exactly."""
    return f"%.{step_decimals(item.step, item.min, item.default, *values)}f"


def clean_value(value: float) -> float:
    """A slider value without float noise (``0.30000000000000004`` → ``0.3``)."""
    return float(round(float(value), 9))


def lever_help(lever: tables.Lever, lang: str) -> str:
    """Help text of a lever's slider: the plan clause, its effect in the model, unit and range."""
    parts = [ui("help_clause", lang, clause=f"{lever.plan_section} · {lever.plan_clause}"),
             ui("help_effect", lang, effect=lever.effect_zh if lang == "zh" else lever.effect)]
    parts.append(ui("help_range", lang, unit=unit(lever, lang), lo=plain_number(lever.min),
                    hi=plain_number(lever.max), default=plain_number(lever.default)))
    return "\n\n".join(parts)


def assumption_help(item: tables.Assumption, lang: str) -> str:
    """Help text of a scenario assumption's slider: its source, unit and range."""
    return "\n\n".join([
        ui("help_source", lang, source=item.source),
        ui("help_range", lang, unit=unit(item, lang), lo=plain_number(item.min),
           hi=plain_number(item.max), default=plain_number(item.default)),
    ])


@dataclass(frozen=True)
class ActionGroup:
    """The levers of one of the plan's seven actions, in table order."""

    section: str
    name_zh: str
    name_en: str
    levers: tuple[tables.Lever, ...]

    def title(self, lang: str) -> str:
        if lang == "zh":
            return f"{self.section}、{self.name_zh}"
        return f"{self.name_en} (plan section {arabic_sections(self.section)})"


_CN_NUMERALS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}


def arabic_sections(text: str) -> str:
    """Plan section numbers in Arabic digits: ``"九、十"`` → ``"9, 10"`` (1–10 only)."""
    return ", ".join(str(_CN_NUMERALS.get(part.strip(), part.strip()))
                     for part in text.replace("，", "、").split("、"))


#: The plan's section numerals in order (三、创新主体培育行动 … 九、创新生态优化行动).
SECTION_ORDER = "一二三四五六七八九十"


def _section_rank(section: str) -> tuple[int, str]:
    """Where a plan section (``三``, ``九、十``) comes in the plan; unknown ones last."""
    first = section.strip()[:1]
    return (SECTION_ORDER.index(first) if first and first in SECTION_ORDER
            else len(SECTION_ORDER), section)


def action_groups() -> list[ActionGroup]:
    """The levers grouped by the plan's actions, in the plan's order of sections (三, 四, 五 …);
    within a group, in the order of ``models/levers.csv``."""
    groups: dict[str, list[tables.Lever]] = {}
    for lev in tables.levers():
        groups.setdefault(lev.action_zh, []).append(lev)
    ordered = sorted(groups.values(), key=lambda items: _section_rank(items[0].plan_section))
    return [ActionGroup(section=items[0].plan_section, name_zh=items[0].action_zh,
                        name_en=items[0].action_en, levers=tuple(items))
            for items in ordered]


def target_unit(target: tables.Target, lang: str) -> str:
    """The unit a target is stated in (a growth target: % per year)."""
    return target.unit if lang == "zh" else target.unit_en


def translate_tab(label: str, old: str, new: str, tab_ids: Sequence[str]) -> str:
    """The label in language ``new`` of the tab labelled ``label`` in ``old`` (unchanged when it
    is no tab's label), so that switching the language keeps the open tab open."""
    for tab_id in tab_ids:
        if label == ui(f"tab_{tab_id}", old):
            return ui(f"tab_{tab_id}", new)
    return label
