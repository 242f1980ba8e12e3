"""Pure helpers behind the Streamlit app (``app.py``): labels, scenario state, the link's query
string, scorecard tables, charts and exports.

Nothing here imports Streamlit, so every function can be tested on its own. Labels, units, help
texts and chart titles come from the metadata tables (``models/*.csv`` through
:mod:`simulator.tables`); the only strings written here are the app's own chrome (button
captions, headings), in :data:`UI_STRINGS`, in Chinese and English.
"""
from __future__ import annotations

import functools
import html
import io
import math
import re
import shutil
import subprocess
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from . import goals, inputs, tables
from . import scenario as scenario_mod
from .terminal import _decimals, display_width, format_against, format_number
from .scenario import Scenario, ScenarioError

#: Languages of the interface; Chinese first (the default).
LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

#: The shipped scenario files, offered as presets.
SCENARIOS_DIR = tables.MODELS_DIR.parent / "scenarios"
#: The preset the app opens with (and that a link without ``preset=`` means).
DEFAULT_PRESET = "plan"
#: The reference scenario the current settings are drawn against.
REFERENCE_PRESET = "baseline"
#: Display order of the shipped presets (others follow alphabetically).
PRESET_ORDER: tuple[str, ...] = ("baseline", "plan", "ambitious")
#: How many named scenarios a session can keep for comparison.
MAX_SAVED = 4
#: How many uploaded scenarios a session keeps as presets (the oldest go first).
MAX_UPLOADED = 8
#: Query-string keys that are not levers or assumptions.
RESERVED_QUERY_KEYS: tuple[str, ...] = ("preset", "lang", "view", "mode")
#: At most this many lever and assumption parameters of a link are read (there are fewer
#: levers and assumptions than that; the rest is reported in one line).
MAX_LINK_PARAMS = 100
#: Source name used in error messages about the link's query string.
LINK_SOURCE = "link"

CURRENT_COLOR = "#1a56b0"
REFERENCE_COLOR = "#7f7f7f"
TARGET_COLOR = "#c0392b"
MET_COLOR = "#1e7b34"
MISSED_COLOR = "#b3261e"
#: Colours of compared scenarios (colour-blind safe, distinct on a projector).
PALETTE: tuple[str, ...] = ("#1a56b0", "#e07b00", "#2e8b57", "#8e44ad", "#c0392b", "#5d6d7e")

# --------------------------------------------------------------------------------------------
# Interface chrome strings (everything else comes from the tables)

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
    # The 15th FYP: 2030 milestones toward the 2035 goals (simulator.milestones)
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


# --------------------------------------------------------------------------------------------
# Untrusted text: anything from an upload, a link or a text box, on its way into Markdown or HTML

#: Every ASCII punctuation character: CommonMark lets each be backslash-escaped, and together
#: they are all the Markdown (and Streamlit: ``:red[…]``, ``$…$``) syntax there is.
_MD_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
#: Where GFM's autolink literals start (``https://``, ``www.``, ``user@host``). remark-gfm finds
#: them again in the *text* after escapes are resolved, so escaping alone cannot stop them; a
#: zero-width space at these points breaks the pattern without changing what the reader sees.
_AUTOLINK = re.compile(r"(?<=:)(?=//)|(?<=@)|(?<=[wW]{3})(?=\.)")
_ZWSP = "\u200b"


def md_text(text: Any, limit: int = inputs.MAX_MESSAGE_CHARS) -> str:
    """Untrusted text as Markdown that shows exactly that text, on one line.

    For ``st.markdown``, ``st.warning``, ``st.error``, ``st.success``, ``st.caption`` and every
    other element that renders Markdown (``unsafe_allow_html=False`` still renders links and
    images). Control, format (bidirectional, zero-width) and surrogate characters and line
    breaks are shown as escapes (:func:`simulator.inputs.one_line`), the text is cut at
    ``limit`` characters, every ASCII punctuation character is backslash-escaped (no link,
    image, emphasis, heading, list, HTML, entity, math or colour directive can form) and
    autolink literals are broken with a zero-width space.
    """
    line = _AUTOLINK.sub(_ZWSP, inputs.one_line(str(text), limit))
    return _MD_PUNCTUATION.sub(r"\\\1", line)


def html_text(text: Any, limit: int = inputs.MAX_MESSAGE_CHARS) -> str:
    """Untrusted text for an HTML fragment (``unsafe_allow_html=True``): one line, escaped."""
    return html.escape(inputs.one_line(str(text), limit))


def link_errors_markdown(errors: Sequence[str], lang: str,
                         limit: int = 8) -> str:
    """The warning about a link's invalid parameters: a heading line and a bullet per error
    (escaped with :func:`md_text`), at most ``limit`` of them and a count of the rest."""
    lines = [ui("url_errors", lang), ""]
    lines += [f"- {md_text(e)}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"- {ui('url_errors_more', lang, n=len(errors) - limit)}")
    return "\n".join(lines)


def read_upload(data: bytes, filename: Any, lang: str) -> tuple[Scenario | None, str]:
    """An uploaded scenario file, validated as the command line validates one.

    Returns
    -------
    (Scenario, "") or (None, message)
        ``message`` is one line: the validation's own (naming the file, field, value excerpt
        and what was allowed), or, for a file over :data:`simulator.scenario.MAX_FILE_BYTES`,
        a sentence in ``lang``. It is plain text: escape it (:func:`md_text`) to show it.
        Anything but an input error propagates (a bug, not the visitor's mistake).
    """
    return _read_validated(data, filename, lang, scenario_mod.loads, scenario_mod.MAX_FILE_BYTES)


def _read_validated(data: bytes, filename: Any, lang: str, loads: Callable[..., Any],
                    limit: int) -> tuple[Any, str]:
    """``loads(data, source=...)``, or ``(None, one-line message)`` for an input error or a
    file over ``limit`` bytes (:func:`read_upload`)."""
    source = inputs.source_label(filename)
    if len(data) > limit:
        return None, ui("upload_too_big", lang, source=source, size=f"{len(data):,}",
                        limit=f"{limit:,}")
    try:
        return loads(data, source=source), ""
    except inputs.InputError as exc:
        return None, inputs.one_line(str(exc))


def keep_shared_caches(session_cls: type, log: Any) -> bool:
    """Make Streamlit's clear-cache message clear only the sending session's state.

    Streamlit (1.40 to at least 1.67) answers a ``clear_cache`` message from any browser with
    ``AppSession._handle_clear_cache_request``, which empties ``st.cache_data`` and
    ``st.cache_resource`` for every session of the server. There is no setting to turn it off
    (``client.toolbarMode`` only hides the menu item). The app's caches hold only recomputable
    results, so clearing them costs time, not correctness; but one visitor should not be able
    to cost every other visitor that time. This replaces the handler of ``session_cls`` (the
    ``AppSession`` class, passed in: this module does not import Streamlit) by one that clears
    only the sending session's state, as the original also does, and logs the request.

    Returns whether the handler is replaced (``False``, with a warning on ``log``, if the
    class has no such handler: a future Streamlit, in which case its own behaviour stands).
    Calling it again changes nothing.
    """
    handler = getattr(session_cls, "_handle_clear_cache_request", None)
    if handler is None:
        log.warning("Streamlit has no AppSession._handle_clear_cache_request: a clear-cache "
                    "message from any visitor empties the shared caches")
        return False
    if getattr(handler, "keeps_shared_caches", False):
        return True

    def clear_own_session(self: Any) -> None:
        log.info("clear-cache message: cleared that session's state; shared caches kept")
        self._session_state.clear()

    clear_own_session.keeps_shared_caches = True  # type: ignore[attr-defined]
    clear_own_session.__doc__ = keep_shared_caches.__doc__
    session_cls._handle_clear_cache_request = clear_own_session
    return True


def serialise_script_compiles(cache_cls: type, lock: Any) -> bool:
    """Make Streamlit's compile of the app script hold ``lock`` (the engine's ``AST_LOCK``).

    Streamlit parses ``app.py`` into Python AST objects (``ScriptCache.get_bytecode``, for its
    "magic" commands); the app generates engine code, which also parses source, in a background
    thread. CPython 3.11 cannot build AST objects in two threads at once (a spurious
    "SystemError: AST constructor recursion depth mismatch", python/cpython#106905), so both
    take the same lock. ``cache_cls`` is Streamlit's ``ScriptCache`` class, passed in (this module
    does not import Streamlit). Returns whether the method is wrapped (``False`` if the class has
    no ``get_bytecode``: a future Streamlit); calling it again changes nothing.
    """
    original = getattr(cache_cls, "get_bytecode", None)
    if original is None:
        return False
    if getattr(original, "holds_ast_lock", False):
        return True

    def get_bytecode(self: Any, script_path: str) -> Any:
        with lock:
            return original(self, script_path)

    get_bytecode.holds_ast_lock = True  # type: ignore[attr-defined]
    get_bytecode.__doc__ = original.__doc__
    cache_cls.get_bytecode = get_bytecode
    return True


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


# --------------------------------------------------------------------------------------------
# Presets and scenarios

@dataclass(frozen=True)
class Presets:
    """The scenario files found in a directory.

    Attributes
    ----------
    scenarios : dict
        Scenario name → validated Scenario, in display order (:data:`PRESET_ORDER` first).
    invalid : tuple of str
        One-line errors of files that look like scenarios (only scenario fields at the top)
        but do not validate; they are left out and the app reports them.
    other : tuple of str
        Names of YAML files of another kind (e.g. an uncertainty specification), left out.
    """

    scenarios: dict[str, Scenario]
    invalid: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


def _is_other_kind(path: Path) -> bool:
    """Whether a YAML file is plainly not a scenario: a mapping with a non-scenario field."""
    try:
        data = inputs.parse_yaml(inputs.read_bytes(path), source=path.name)
    except inputs.InputError:
        return False  # unreadable or refused: let the scenario loader say what is wrong
    return isinstance(data, dict) and any(k not in scenario_mod.TOP_FIELDS for k in data)


def find_presets(directory: str | Path = SCENARIOS_DIR) -> Presets:
    """Every scenario file in ``directory`` (``*.yaml``), validated; never raises for a file.

    Files of another kind are skipped; scenario files that fail validation, or reuse another
    file's name, are listed in ``invalid`` with the validation message.
    """
    found: dict[str, Scenario] = {}
    invalid: list[str] = []
    other: list[str] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        if _is_other_kind(path):
            other.append(path.name)
            continue
        shown = f"{path.parent.name}/{path.name}"  # shown to visitors: no server path
        try:
            scn = scenario_mod.load(path)
        except ScenarioError as exc:
            invalid.append(str(exc).replace(str(path), shown))
            continue
        if scn.name in found:
            invalid.append(f"{shown}: scenario name {inputs.excerpt(scn.name)} is used by "
                           "another file")
            continue
        found[scn.name] = scn
    rank = {name: i for i, name in enumerate(PRESET_ORDER)}
    ordered = dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))
    return Presets(scenarios=ordered, invalid=tuple(invalid), other=tuple(other))


def load_presets(directory: str | Path = SCENARIOS_DIR) -> dict[str, Scenario]:
    """The valid scenario files of ``directory`` by name, in display order.

    Raises
    ------
    ScenarioError
        If a scenario file is invalid or two use the same name (other YAML kinds are skipped).
    """
    found = find_presets(directory)
    if found.invalid:
        raise ScenarioError(found.invalid[0])
    return found.scenarios


def short_title(scn: Scenario, lang: str) -> str:
    """A scenario's title without its parenthesised explanation (its name if untitled)."""
    title = scn.title_en if lang == "en" else scn.title_zh
    if not title:
        return scn.name
    for sep in ("(", "（", " — ", " - "):
        if sep in title:
            title = title.split(sep, 1)[0]
    return title.strip() or scn.name


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
                                    for x, y in zip(a, b))


def is_modified(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float],
                base: Scenario) -> bool:
    """Whether settings differ from the scenario ``base`` in any lever or assumption."""
    return (any(not _same(tuple(levers[k]), base.levers[k]) for k in base.levers)
            or any(not _same((assumptions[k],), (base.assumptions[k],)) for k in base.assumptions))


def build_scenario(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float],
                   base: Scenario) -> Scenario:
    """The validated scenario of the current settings, named after the preset ``base``.

    Unchanged settings keep the preset's name and titles; changed ones are named
    ``<preset>-adjusted`` and say which preset they started from.

    Raises
    ------
    ScenarioError
        If a value is outside its lever's or assumption's range.
    """
    data: dict[str, Any] = {
        "name": base.name,
        "levers": {k: [float(v) for v in levers[k]] for k in base.levers},
        "assumptions": {k: float(assumptions[k]) for k in base.assumptions},
    }
    if is_modified(levers, assumptions, base):
        data["name"] = f"{base.name[:55]}-adjusted"
        if base.title_zh:
            data["title_zh"] = f"{short_title(base, 'zh')}(已调整)"
        if base.title_en:
            data["title_en"] = f"{short_title(base, 'en')} (adjusted)"
        data["description"] = f"Adjusted in the app, starting from the preset '{base.name}'."
    else:
        data.update({k: getattr(base, k) for k in ("title_zh", "title_en", "description")
                     if getattr(base, k)})
    return scenario_mod.from_dict(data, source="app")


ScenarioKey = tuple


def scenario_key(scn: Scenario, name: str | None = None) -> ScenarioKey:
    """A hashable, order-independent key of what a run depends on: name, levers, assumptions."""
    return (
        scn.name if name is None else name,
        tuple((k, tuple(float(v) for v in scn.levers[k])) for k in sorted(scn.levers)),
        tuple((k, float(scn.assumptions[k])) for k in sorted(scn.assumptions)),
    )


def scenario_from_key(key: ScenarioKey) -> Scenario:
    """The scenario of a :func:`scenario_key` (validated again)."""
    name, levers, assumptions = key
    return scenario_mod.from_dict(
        {"name": name, "levers": {k: list(v) for k, v in levers},
         "assumptions": dict(assumptions)}, source="app")


def keep_latest(items: Mapping[str, Any], latest: str, limit: int) -> dict[str, Any]:
    """``items`` with ``latest`` moved to the end and only the last ``limit`` kept (a session's
    uploaded scenarios: however many files a visitor uploads, the session stays small)."""
    ordered = {k: v for k, v in items.items() if k != latest}
    ordered[latest] = items[latest]
    return dict(list(ordered.items())[-limit:])


def validate_label(text: str) -> str:
    """A saved scenario's name, checked with the scenario file's rules for ``name``.

    Raises
    ------
    ScenarioError
        If the name is empty, longer than 64 characters or has commas, quotes or line breaks.
    """
    return scenario_mod.from_dict({"name": text}, source="name").name


# --------------------------------------------------------------------------------------------
# The link: lever settings in the query string

@dataclass(frozen=True)
class LinkState:
    """What a link's query string sets: the preset, settings, language and view.

    ``errors`` holds one line for every parameter that was invalid and ignored.
    """

    preset: str
    levers: dict[str, tuple[float, float, float]]
    assumptions: dict[str, float]
    lang: str = DEFAULT_LANG
    meeting: bool = False
    advanced: bool = False
    errors: tuple[str, ...] = ()


def _encode_values(values: Sequence[float]) -> str:
    values = tuple(values)
    if all(_same((v,), (values[0],)) for v in values):
        return plain_number(values[0])
    return ",".join(plain_number(v) for v in values)


def encode_query(levers: Mapping[str, Sequence[float]], assumptions: Mapping[str, float], *,
                 preset: str, presets: Mapping[str, Scenario], lang: str = DEFAULT_LANG,
                 meeting: bool = False, advanced: bool = False) -> dict[str, str]:
    """The query string (as a dict) that reopens these settings.

    Only what differs from the defaults is written: the preset unless it is
    ``DEFAULT_PRESET``, the language unless Chinese, and each lever or assumption whose value
    differs from the preset's (one number, or three separated by commas for the three plan
    periods). A preset that is not a shipped file (an uploaded scenario) cannot be named in a
    link, so its settings are written as differences from ``DEFAULT_PRESET``.
    """
    if preset not in presets:
        preset = DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets))
    base = presets[preset]
    out: dict[str, str] = {}
    if preset != DEFAULT_PRESET:
        out["preset"] = preset
    if lang != DEFAULT_LANG:
        out["lang"] = lang
    if meeting:
        out["view"] = "meeting"
    if advanced:
        out["mode"] = "advanced"
    for lev in tables.levers():
        if not _same(tuple(levers[lev.id]), base.levers[lev.id]):
            out[lev.id] = _encode_values(levers[lev.id])
    for ass in tables.assumptions():
        if not _same((assumptions[ass.id],), (base.assumptions[ass.id],)):
            out[ass.id] = plain_number(assumptions[ass.id])
    return out


def _last(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[-1]) if value else ""
    return str(value)


#: A number in a link: plain decimal or exponent notation, ASCII digits only (``float`` alone
#: would also take ``1_0``, ``nan``, ``inf`` and full-width digits).
_LINK_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def decode_query(params: Mapping[str, Any], presets: Mapping[str, Scenario]) -> LinkState:
    """Read a link's query string (as from ``st.query_params.to_dict()``).

    Never raises for bad input: every invalid parameter (unknown key, unknown preset or
    language, a value that is not a number or out of range, as the scenario validation
    defines it) is skipped and reported in ``errors`` (one line each, quoting at most a short
    escaped excerpt of the key or value); the rest is applied. A repeated key
    counts with its last value, as in ``st.query_params``.
    """
    errors: list[str] = []
    default_preset = DEFAULT_PRESET if DEFAULT_PRESET in presets else next(iter(presets))
    preset = _last(params.get("preset", default_preset))
    if preset not in presets:
        errors.append(f"{LINK_SOURCE}: field 'preset': value {inputs.excerpt(preset)} is "
                      "unknown; allowed " + ", ".join(presets))
        preset = default_preset
    lang = _last(params.get("lang", DEFAULT_LANG))
    if lang not in LANGS:
        errors.append(f"{LINK_SOURCE}: field 'lang': value {inputs.excerpt(lang)} is unknown; "
                      "allowed " + ", ".join(LANGS))
        lang = DEFAULT_LANG
    view = _last(params.get("view", ""))
    if view not in ("", "meeting"):
        errors.append(f"{LINK_SOURCE}: field 'view': value {inputs.excerpt(view)} is unknown; "
                      "allowed meeting")
    mode = _last(params.get("mode", "simple"))
    if mode not in ("simple", "advanced"):
        errors.append(f"{LINK_SOURCE}: field 'mode': value {inputs.excerpt(mode)} is unknown; "
                      "allowed simple, advanced")
    data = presets[preset].to_dict()
    lever_ids = {lev.id for lev in tables.levers()}
    assumption_ids = {a.id for a in tables.assumptions()}
    keys = [key for key in params if key not in RESERVED_QUERY_KEYS]
    if len(keys) > MAX_LINK_PARAMS:  # a link holds at most one per lever and assumption
        errors.append(f"{LINK_SOURCE}: {len(keys):,} parameters; at most {MAX_LINK_PARAMS} are "
                      "read (the first ones)")
        keys = keys[:MAX_LINK_PARAMS]
    for key in keys:
        raw = _last(params[key]).strip()
        if key not in lever_ids and key not in assumption_ids:
            errors.append(f"{LINK_SOURCE}: field {inputs.excerpt(key)}: unknown parameter; "
                          "allowed a lever or assumption id, " + ", ".join(RESERVED_QUERY_KEYS))
            continue
        section = "levers" if key in lever_ids else "assumptions"
        parts = raw.split(",")
        numbers = ([float(part) for part in parts]
                   if all(_LINK_NUMBER.fullmatch(part.strip()) for part in parts) else [])
        allowed_counts = (1, len(tables.PERIODS)) if section == "levers" else (1,)
        if len(numbers) not in allowed_counts:
            what = ("a number, or one per plan period separated by commas"
                    if section == "levers" else "a number")
            errors.append(f"{LINK_SOURCE}: field '{section}.{key}': value {inputs.excerpt(raw)} "
                          f"is not {what}")
            continue
        candidate = {**data, section: {**data[section],
                                       key: numbers[0] if len(numbers) == 1 else numbers}}
        try:
            scenario_mod.from_dict(candidate, source=LINK_SOURCE)
        except ScenarioError as exc:
            errors.append(str(exc))
            continue
        data = candidate
    scn = scenario_mod.from_dict(data, source=LINK_SOURCE)
    return LinkState(preset=preset, levers=dict(scn.levers), assumptions=dict(scn.assumptions),
                     lang=lang, meeting=view == "meeting", advanced=mode == "advanced",
                     errors=tuple(errors))


# --------------------------------------------------------------------------------------------
# Scorecards

_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def format_margin(margin: float, decimals: int, max_extra: int = 6) -> str:
    """A signed margin; a non-zero margin never prints as ``0`` (more decimals if needed)."""
    if margin is None or (isinstance(margin, float) and math.isnan(margin)):
        return "—"
    places = decimals
    while (places < decimals + max_extra and margin != 0
           and float(format_number(abs(margin), places).replace(",", "")) == 0):
        places += 1
    return ("+" if margin >= 0 else "−") + format_number(abs(margin), places)


def _target_of(row: Mapping[str, Any]) -> tables.Target:
    for tgt in tables.targets():
        if tgt.key == row["key"]:
            return tgt
    raise KeyError(f"unknown target {row['key']!r}")


def format_probability(p: float) -> str:
    """A probability as a percentage with one decimal: ``0.136`` → ``13.6%`` (NaN → ``—``)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "—"
    return f"{100 * float(p):.1f}%"


def format_range(lo: float, hi: float, decimals: int) -> str:
    """A 5–95 % range with the target's decimals: ``211–552``."""
    if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in (lo, hi)):
        return "—"
    return f"{format_number(lo, decimals)}–{format_number(hi, decimals)}"


def scorecard_display(card: pd.DataFrame, lang: str,
                      probs: pd.DataFrame | None = None,
                      recal: pd.DataFrame | None = None) -> pd.DataFrame:
    """A one-scenario scorecard as display strings, one row per target.

    Columns: ``key, doubling, indicator, year, target, value, status, margin, first_met, unit,
    met``. A missed value never prints equal to its target: it gets more decimals.

    With ``probs`` (``UncertaintyResult.probabilities()`` of the same settings) two more columns:
    ``probability`` (share of draws meeting the target) and ``range`` (its p05–p95). With
    ``recal`` (the scorecard of the same settings run with recalibrated parameters) the columns
    ``recal_value`` and ``recal_met``. When ``card`` has the columns of :func:`with_progress`,
    the columns ``actual`` (latest actual and its year), ``progress`` (完成进度) and
    ``time_progress``.
    """
    recal_by_key = {} if recal is None else {r["key"]: r for _, r in recal.iterrows()}
    by_key = {} if probs is None else {r["key"]: r for _, r in probs.iterrows()}
    rows = []
    for _, r in card.iterrows():
        tgt = _target_of(r)
        dec = _decimals(r)
        rows.append({
            "key": r["key"],
            "doubling": bool(r["doubling"]),
            "indicator": label(tgt, lang),
            "year": str(int(r["year"])),
            "target": f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}",
            "value": format_against(r["value"], r["target"], dec),
            "status": ui("met" if r["met"] else "missed", lang),
            "margin": format_margin(r["margin"], dec),
            "first_met": ui("never", lang) if pd.isna(r["first_year_met"])
            else str(int(r["first_year_met"])),
            "unit": target_unit(tgt, lang),
            "met": bool(r["met"]),
        })
        if probs is not None:
            p = by_key.get(r["key"])
            rows[-1]["probability"] = "—" if p is None else format_probability(p["probability"])
            rows[-1]["range"] = "—" if p is None else format_range(p["p05"], p["p95"], dec)
        if recal is not None:
            q = recal_by_key.get(r["key"])
            rows[-1]["recal_value"] = ("—" if q is None
                                       else format_against(q["value"], q["target"], dec))
            rows[-1]["recal_met"] = None if q is None else bool(q["met"])
        if "progress_pct" in card.columns:
            ind_dec = tables.indicator(tgt.indicator).decimals
            rows[-1]["actual"] = format_actual(r["actual_value"], r["actual_year"],
                                               r["actual_kind"], ind_dec)
            rows[-1]["progress"] = format_progress(r["progress_pct"], r["progress_relation"])
            rows[-1]["time_progress"] = ("—" if not math.isfinite(r["time_progress_pct"])
                                         else f"{r['time_progress_pct']:.0f}%")
    return pd.DataFrame(rows)


def summary(card: pd.DataFrame) -> dict[str, int]:
    """Counts of a one-scenario scorecard: targets met, doubling targets met, 2035 goals met."""
    doubling = card[card["doubling"].astype(bool)]
    late = card[card["year"] == card["year"].max()]
    return {"met": int(card["met"].sum()), "total": len(card),
            "doubling_met": int(doubling["met"].sum()), "doubling_total": len(doubling),
            "late_met": int(late["met"].sum()), "late_total": len(late),
            "late_year": int(card["year"].max())}


SCORECARD_CSS = """
<style>
table.gy-card {border-collapse: collapse; width: 100%; font-size: 1.02rem;
  font-variant-numeric: tabular-nums;}
table.gy-card th {text-align: left; border-bottom: 2px solid #444; padding: .35em .55em;
  background: #f3f4f6; white-space: nowrap;}
table.gy-card td {border-bottom: 1px solid #ddd; padding: .3em .55em; vertical-align: middle;}
table.gy-card td.num, table.gy-card th.num {text-align: right; white-space: nowrap;}
table.gy-card td.ok {color: #1e7b34; font-weight: 700; white-space: nowrap;}
table.gy-card td.no {color: #b3261e; font-weight: 700; white-space: nowrap;}
table.gy-card tr.no td.val {color: #b3261e; font-weight: 700;}
table.gy-card tr.ok td.val {color: #1e7b34; font-weight: 700;}
table.gy-card td.star {color: #b8860b; font-weight: 700; width: 1.2em; text-align: center;}
table.gy-card tr.sep td {border-top: 2px solid #444;}
table.gy-card tr.changed td {background: #fff3c4;}
table.gy-card tr.changed td.star::after {content: " ◆"; color: #8a6d00;}
table.gy-card.large {font-size: 1.3rem;}
table.gy-card.large td, table.gy-card.large th {padding: .28em .5em;}
</style>
"""


def scorecard_html(card: pd.DataFrame, lang: str, *, large: bool = False,
                   probs: pd.DataFrame | None = None,
                   recal: pd.DataFrame | None = None, changed: Iterable[str] = ()) -> str:
    """The scorecard of one scenario as an HTML table (escape-safe), for ``st.markdown``.

    Met and missed are told by a symbol and a word as well as by colour; the four doubling
    indicators carry a ★; 2035 goals are set apart by a rule. With ``probs`` (the uncertainty
    ensemble's ``probabilities()``) two columns follow the result: the probability of meeting
    each target and the 5–95 % range of its simulated value. Rows whose key is in ``changed``
    (:func:`changed_targets`: their value moved with the last change of settings) are
    highlighted and say so on hover. With ``recal`` (the recalibrated
    run's scorecard) its simulated value follows, marked ✓/✗; when ``card`` carries actuals
    (:func:`with_progress`), the latest actual, 完成进度 and time elapsed follow, their
    definition in the header's ``title`` (hover help).
    """
    disp = scorecard_display(card, lang, probs, recal)
    progress = "progress" in disp.columns
    head = [("", ""), (ui("col_indicator", lang), ""), (ui("col_year", lang), ""),
            (ui("col_target", lang), "num"), (ui("col_value", lang), "num"),
            (ui("col_status", lang), "")]
    if probs is not None:
        head += [(ui("col_probability", lang), "num"), (ui("col_range", lang), "num")]
    if recal is not None:
        head += [(ui("col_recal", lang), "num")]
    if progress:
        head += [(ui("col_actual", lang), "num actual"), (ui("col_progress", lang), "num progress"),
                 (ui("col_time_progress", lang), "num")]
    head += [(ui("col_margin", lang), "num"), (ui("col_first", lang), "num"),
             (ui("col_unit", lang), "")]
    help_text = html.escape(ui("progress_help", lang))
    out = [f'<table class="gy-card{" large" if large else ""}"><thead><tr>']
    out += [f'<th class="{cls}"' + (f' title="{help_text}"' if "progress" in cls else "")
            + f'>{html.escape(text)}</th>' for text, cls in head]
    out.append("</tr></thead><tbody>")
    previous_year = None
    changed = set(changed)
    changed_title = html.escape(ui("changed_row", lang))
    for _, r in disp.iterrows():
        status = "ok" if r["met"] else "no"
        classes = [status] + (["sep"] if previous_year and r["year"] != previous_year else [])
        classes += ["changed"] if r["key"] in changed else []
        previous_year = r["year"]
        cells = [
            ("star", "★" if r["doubling"] else ""), ("", r["indicator"]), ("", r["year"]),
            ("num", r["target"]), ("num val", r["value"]), (status, r["status"]),
        ]
        if probs is not None:
            cells += [("num prob", r["probability"]), ("num range", r["range"])]
        if recal is not None:
            mark = {True: " ✓", False: " ✗"}.get(r["recal_met"], "")
            cells += [("num recal " + {True: "ok", False: "no"}.get(r["recal_met"], ""),
                       r["recal_value"] + mark)]
        if progress:
            cells += [("num actual", r["actual"]), ("num progress", r["progress"]),
                      ("num", r["time_progress"])]
        cells += [("num", r["margin"]), ("num", r["first_met"]), ("", r["unit"])]
        title = f' title="{changed_title}"' if r["key"] in changed else ""
        out.append(f'<tr class="{" ".join(classes)}" data-key="{html.escape(r["key"])}"{title}>'
                   + "".join(f'<td class="{c}">{html.escape(str(v))}</td>' for c, v in cells)
                   + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


#: A target's value counts as changed when it moves by more than this, relative to its size.
CHANGE_RTOL = 1e-9


def card_values(card: pd.DataFrame) -> dict[str, float]:
    """Target key → simulated value of a scorecard (what :func:`changed_targets` compares)."""
    return {k: float(v) for k, v in zip(card["key"], card["value"])}


def changed_targets(before: Mapping[str, float] | None, card: pd.DataFrame) -> set[str]:
    """Keys of the targets whose simulated value differs from ``before`` (none without one)."""
    if not before:
        return set()
    out = set()
    for key, value in card_values(card).items():
        old = before.get(key)
        if old is None or np.isnan(old) != np.isnan(value):
            out.add(key)
        elif not np.isnan(value) and abs(value - old) > CHANGE_RTOL * max(abs(old), abs(value), 1e-12):
            out.add(key)
    return out


def compare_html(cards: Mapping[str, pd.DataFrame], lang: str) -> str:
    """Scorecards of several scenarios side by side (``cards``: display label → scorecard)."""
    labels = list(cards)
    first = scorecard_display(cards[labels[0]], lang)
    disps = {k: scorecard_display(v, lang) for k, v in cards.items()}
    out = ['<table class="gy-card"><thead><tr><th></th>',
           f'<th>{html.escape(ui("col_indicator", lang))}</th>',
           f'<th>{html.escape(ui("col_year", lang))}</th>',
           f'<th class="num">{html.escape(ui("col_target", lang))}</th>']
    out += [f'<th class="num">{html_text(k)}</th>' for k in labels]  # user-named
    out.append(f'<th>{html.escape(ui("col_unit", lang))}</th></tr></thead><tbody>')
    for i, r in first.iterrows():
        out.append("<tr>")
        out.append(f'<td class="star">{"★" if r["doubling"] else ""}</td>'
                   f'<td>{html.escape(r["indicator"])}</td><td>{r["year"]}</td>'
                   f'<td class="num">{html.escape(r["target"])}</td>')
        for k in labels:
            d = disps[k].iloc[i]
            cls = "ok" if d["met"] else "no"
            mark = "✓" if d["met"] else "✗"
            out.append(f'<td class="num {cls}">{html.escape(d["value"])} {mark}</td>')
        out.append(f'<td>{html.escape(r["unit"])}</td></tr>')
    out.append(f'<tr class="sep"><td></td><td><b>{html.escape(ui("count_row", lang))}</b></td>'
               "<td></td><td></td>")
    for k in labels:
        s = summary(cards[k])
        out.append(f'<td class="num"><b>{s["met"]}/{s["total"]}</b></td>')
    out.append("<td></td></tr></tbody></table>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Charts (Altair; channels built as objects, not shorthand strings: 5x faster to construct)

def wrap(text: str, width: int) -> list[str]:
    """``text`` broken into balanced lines of at most ``width`` columns (CJK-aware).

    Latin text breaks between words; Chinese text between characters.
    """
    total = display_width(text)
    if total <= width:
        return [text]
    n_lines = math.ceil(total / width)
    if display_width(text) != len(text):  # Chinese: equal runs of characters
        per_line = math.ceil(len(text) / n_lines)
        return [text[k:k + per_line] for k in range(0, len(text), per_line)]
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and display_width(trial) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


def panel_title(ind: tables.Indicator, lang: str, width: int = 30) -> str:
    """A chart panel's title: the indicator's name (wrapped) and its unit, lines joined by ``|``."""
    return "|".join(wrap(label(ind, lang), width) + [f"[{unit(ind, lang)}]"])


def key_indicator_ids() -> list[str]:
    """Indicators with a doubling target or a goal in the last target year, in table order."""
    last = max(t.year for t in tables.targets())
    wanted = {t.indicator for t in tables.targets() if t.doubling or t.year == last}
    return [i.id for i in tables.indicators() if i.id in wanted]


def target_levels(results: pd.DataFrame) -> pd.DataFrame:
    """Every target as a point on its indicator's level chart.

    A growth (``cagr``) target is drawn at the level it implies from the 2020 value of
    ``results`` (one scenario's tidy results): ``v2020 * (1 + g/100) ** (year - 2020)``.

    Returns
    -------
    DataFrame
        Columns ``indicator, year, level, target`` (``target`` is the Target).
    """
    start = results[np.isclose(results["time"].to_numpy(float), goals.BASE_YEAR)]
    start_values = dict(zip(start["variable"], start["value"].astype(float)))
    rows = []
    for tgt in tables.targets():
        if tgt.kind == "cagr":
            v0 = start_values.get(tgt.indicator, math.nan)
            if not np.isfinite(v0):
                continue
            level = v0 * (1 + tgt.target / 100) ** (tgt.year - goals.BASE_YEAR)
        else:
            level = tgt.target
        rows.append({"indicator": tgt.indicator, "year": tgt.year, "level": level,
                     "target": tgt})
    return pd.DataFrame(rows, columns=["indicator", "year", "level", "target"])


def chart_frame(series: Mapping[str, pd.DataFrame], lang: str,
                indicator_ids: Sequence[str] | None = None, width: int = 30,
                bands: pd.DataFrame | None = None, observed: Any = None) -> pd.DataFrame:
    """Data of a trajectory chart: lines of every scenario plus the targets.

    Parameters
    ----------
    series : mapping
        Display label → tidy results of one scenario (``Model.run``). The first one's 2020
        values place the growth targets.
    lang : {"zh", "en"}
    indicator_ids : sequence of str, optional
        Indicators to include, default all (table order).
    bands : DataFrame, optional
        Uncertainty bands of the first series (``UncertaintyResult.bands()``: ``time,
        variable, p05, p95``): adds rows of layer "band" and the columns ``lo`` and ``hi``.
    observed : simulator.actuals.Actuals, optional
        Actuals: adds rows of layer "actual" (one per observation of a drawn indicator, levels
        and bounds) and the column ``observed`` (the kind's name in ``lang``, which picks the
        marker; empty outside actual rows).

    Returns
    -------
    DataFrame
        Columns ``layer`` ("line", "target" or "band"), ``panel``, ``series``, ``time``,
        ``value``, ``text`` (the value with the indicator's decimals and unit, for tooltips);
        with ``bands`` also ``lo``, ``hi`` (NaN outside band rows).
    """
    inds = [i for i in tables.indicators() if indicator_ids is None or i.id in indicator_ids]
    panels = {i.id: panel_title(i, lang, width) for i in inds}
    fmt = {i.id: (i.decimals, unit(i, lang)) for i in inds}
    cols: dict[str, list] = {"layer": [], "panel": [], "series": [], "time": [], "value": [],
                             "text": []}

    def add(layer: str, panel: str, name: str, time: float, value: float, text: str) -> None:
        for key, item in zip(cols, (layer, panel, name, time, value, text)):
            cols[key].append(item)

    # plain Python over a few hundred rows: several times faster than pandas operations here
    for name, res in series.items():
        for var, time, value in zip(res["variable"].tolist(), res["time"].tolist(),
                                    res["value"].tolist()):
            if var in panels and value == value:  # skips NaN
                dec, u = fmt[var]
                add("line", panels[var], name, float(time), float(value),
                    f"{format_number(value, dec)} {u}")
    targets = target_levels(next(iter(series.values())))
    for ind_id, year, level, tgt in targets.itertuples(index=False):
        if ind_id not in panels:
            continue
        dec = _decimals({"kind": tgt.kind, "indicator": tgt.indicator, "target": tgt.target})
        text = (f"{label(tgt, lang)} {tgt.year}: {_SYMBOL[tgt.comparison]} "
                f"{format_number(tgt.target, dec)} {target_unit(tgt, lang)}")
        add("target", panels[ind_id], ui("target", lang), float(year), float(level), text)
    frame = pd.DataFrame(cols)
    if observed is not None:
        points = actual_frame(observed, lang, panels, fmt)
        frame = frame.assign(observed="")
        if len(points):  # (concatenating an empty frame warns in pandas)
            frame = pd.concat([frame, points], ignore_index=True)
    if bands is None:
        return frame
    return pd.concat([frame.assign(lo=math.nan, hi=math.nan), band_frame(bands, lang, panels, fmt)],
                     ignore_index=True)


def actual_kind_label(kind: str, lang: str) -> str:
    """The legend name of an observation kind (``level``, ``lower_bound``, ``upper_bound``)."""
    return ui(f"actual_{kind}", lang)


def actual_frame(observed: Any, lang: str, panels: Mapping[str, str],
                 fmt: Mapping[str, tuple[int, str]]) -> pd.DataFrame:
    """Rows of layer "actual" of a chart frame: every observation of an indicator in ``panels``
    (indicator id → panel title; ``fmt``: id → (decimals, unit)), columns as
    :func:`chart_frame`'s with ``observed`` = the kind's legend name."""
    rows = []
    for a in observed:
        if a.indicator not in panels:
            continue
        dec, u = fmt[a.indicator]
        name = actual_kind_label(a.kind, lang)
        prefix = {"lower_bound": "≥ ", "upper_bound": "≤ "}.get(a.kind, "")
        rows.append({"layer": "actual", "panel": panels[a.indicator], "series": name,
                     "time": float(a.year), "value": float(a.value),
                     "text": f"{prefix}{format_number(a.value, dec)} {u}", "observed": name})
    return pd.DataFrame(rows, columns=["layer", "panel", "series", "time", "value", "text",
                                       "observed"])


def actual_kinds(observed: Any) -> tuple[str, ...]:
    """The kinds present in ``observed`` (None: none), in the order of :data:`ACTUAL_SHAPES`."""
    present = {a.kind for a in observed} if observed is not None else set()
    return tuple(k for k in ACTUAL_SHAPES if k in present)


def first_chart_year(observed: Any, indicator_ids: Sequence[str] | None = None) -> int:
    """Where a chart's time axis starts: 2020, or the year of an earlier observation."""
    years = [a.year for a in (observed or ()) if indicator_ids is None
             or a.indicator in indicator_ids]
    return min([goals.BASE_YEAR, *[math.floor(y) for y in years]])


def _actual_layer(x: alt.X, y: alt.Y, lang: str, kinds: tuple[str, ...], large: bool
                  ) -> alt.Chart:
    """Observed points: levels as dots, bounds as triangles (▲ lower, ▼ upper), with a legend."""
    names = [actual_kind_label(k, lang) for k in kinds]
    shape = alt.Shape(field="observed", type="nominal",
                      scale=alt.Scale(domain=names, range=[ACTUAL_SHAPES[k] for k in kinds]),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=17 if large
                                        else 14, labelLimit=500, symbolFillColor=ACTUAL_COLOR,
                                        symbolStrokeColor=ACTUAL_COLOR))
    return alt.Chart(
        mark=alt.MarkDef(type="point", filled=True, size=150 if large else 90,
                         color=ACTUAL_COLOR, opacity=0.9),
        encoding=alt.FacetedEncoding(x=x, y=y, shape=shape, tooltip=[
            alt.Tooltip(field="series", type="nominal", title=" "),
            alt.Tooltip(field="time", type="quantitative", title=ui("year", lang)),
            alt.Tooltip(field="text", type="nominal", title="  ")]),
        transform=[alt.FilterTransform(filter="datum.layer == 'actual'")])


def band_frame(bands: pd.DataFrame, lang: str, panels: Mapping[str, str],
               fmt: Mapping[str, tuple[int, str]] | None = None) -> pd.DataFrame:
    """Rows of layer "band" of a chart frame: the p05–p95 band of every indicator in ``panels``
    (indicator id → panel title), with a tooltip text; columns as :func:`chart_frame`'s."""
    part = bands[bands["variable"].isin(list(panels))]
    part = part[np.isfinite(part["p05"].to_numpy(float)) & np.isfinite(part["p95"].to_numpy(float))]
    start = part["variable"].map({i.id: i.defined_from for i in tables.indicators()})
    part = part[part["time"].to_numpy(float) >= start.to_numpy(float)]  # as the lines: no
    # value before the indicator is defined (a growth rate from 2021)
    fmt = fmt or {i.id: (i.decimals, unit(i, lang)) for i in tables.indicators()}
    name = ui("band_label", lang)
    texts = [f"{name}: {format_range(lo, hi, fmt[v][0])} {fmt[v][1]}"
             for v, lo, hi in zip(part["variable"], part["p05"], part["p95"])]
    return pd.DataFrame({
        "layer": "band", "panel": [panels[v] for v in part["variable"]], "series": name,
        "time": part["time"].astype(float).to_numpy(), "value": math.nan, "text": texts,
        "lo": part["p05"].astype(float).to_numpy(), "hi": part["p95"].astype(float).to_numpy()})


def _band_layer(x: alt.X, y: alt.Y, lang: str) -> alt.Chart:
    """The shaded p05–p95 band (drawn first, behind the lines), filtered to layer "band"."""
    lo = alt.Y(**{**y._kwds, "field": "lo"})  # the lines' y channel (scale, axis) on "lo"
    return alt.Chart(
        mark=alt.MarkDef(type="area", color=CURRENT_COLOR, opacity=0.16),
        encoding=alt.FacetedEncoding(
            x=x, y=lo, y2=alt.Y2(field="hi"),
            tooltip=[alt.Tooltip(field="text", type="nominal", title=ui("band_label", lang))]),
        transform=[alt.FilterTransform(filter="datum.layer == 'band'")])


def _colors(labels: Sequence[str], colors: Sequence[str] | None) -> list[str]:
    colors = list(colors or PALETTE)
    return [colors[i % len(colors)] for i in range(len(labels))]


class TrustedFacetChart(alt.FacetChart):
    """A facet chart whose structure is checked by the tests, not again on every draw.

    ``st.altair_chart`` calls ``to_dict()``, which validates the whole spec against the
    Vega-Lite JSON schema: 60 % of the time of drawing the chart. The structure of the
    trajectory charts never changes, only their data; ``tests/test_appsupport.py`` validates
    every variant with ``validate_spec`` (``to_dict(validate=True)``). Any other caller can
    still ask for validation explicitly.
    """

    def to_dict(self, validate: bool = False, **kwargs: Any) -> dict[str, Any]:
        return super().to_dict(validate=validate, **kwargs)


def validate_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec, validated against the schema (raises if invalid)."""
    return chart.to_dict(validate=True)


@functools.lru_cache(maxsize=256)
def _trajectory_template(lang: str, labels: tuple[str, ...], panel_order: tuple[str, ...],
                         columns: int, large: bool, colors: tuple[str, ...],
                         dashed: tuple[str, ...], band: bool = False,
                         kinds: tuple[str, ...] = (), start: int = 2020) -> TrustedFacetChart:
    """The trajectory chart without its data (built once per layout; shared read-only).
    ``kinds``: the observation kinds drawn (an actual layer when not empty); ``start``: the
    first year of the time axis."""
    font = 17 if large else 13
    ticks = [t for t in (2015, 2020, 2025, 2030, 2035) if t >= start]
    x = alt.X(field="time", type="quantitative", title=None,
              scale=alt.Scale(domain=[start, 2035], nice=False),
              axis=alt.Axis(format="d", values=ticks, labelFontSize=font, grid=True))
    y = alt.Y(field="value", type="quantitative", title=None,
              scale=alt.Scale(zero=False, nice=True),
              axis=alt.Axis(labelFontSize=font, tickCount=5))
    color = alt.Color(field="series", type="nominal",
                      scale=alt.Scale(domain=list(labels), range=list(colors)),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=font + 1,
                                        labelColor="#1a1a1a", symbolStrokeWidth=3,
                                        labelLimit=500))
    dash = alt.StrokeDash(field="series", type="nominal",
                          scale=alt.Scale(domain=list(labels),
                                          range=[[6, 4] if s in dashed else [1, 0]
                                                 for s in labels]),
                          legend=None)
    tooltip = [alt.Tooltip(field="series", type="nominal", title=ui("scenario_label", lang)),
               alt.Tooltip(field="time", type="quantitative", title=ui("year", lang),
                           format="d"),
               alt.Tooltip(field="text", type="nominal", title=" ")]
    lines = alt.Chart(
        mark=alt.MarkDef(type="line", point=alt.OverlayMarkDef(size=22 if large else 14),
                         strokeWidth=3.2 if large else 2.4),
        encoding=alt.FacetedEncoding(x=x, y=y, color=color, strokeDash=dash, tooltip=tooltip),
        transform=[alt.FilterTransform(filter="datum.layer == 'line'")])
    marks = alt.Chart(
        mark=alt.MarkDef(type="point", shape="diamond", filled=True, size=200 if large else 130,
                         color=TARGET_COLOR, opacity=1, stroke="white", strokeWidth=1),
        encoding=alt.FacetedEncoding(x=x, y=y, tooltip=[
            alt.Tooltip(field="text", type="nominal", title=ui("target", lang))]),
        transform=[alt.FilterTransform(filter="datum.layer == 'target'")])
    header = alt.Header(title=None, labelExpr="split(datum.value, '|')", labelColor="#1a1a1a",
                        labelFontSize=font + 2, labelFontWeight="bold", labelLimit=0,
                        labelAlign="left", labelAnchor="start", labelPadding=6)
    width, height = (400, 230) if large else (300, 175)
    # Built through the constructors rather than chained methods: every chained call
    # deep-copies the chart, which cost more than drawing it.
    return TrustedFacetChart(
        spec=alt.LayerChart(layer=([_band_layer(x, y, lang)] if band else []) + [lines, marks]
                            + ([_actual_layer(x, y, lang, kinds, large)] if kinds else []),
                            width=width, height=height),
        facet=alt.Facet(field="panel", type="nominal", sort=list(panel_order), header=header),
        columns=columns,
        spacing={"row": 24, "column": 28},
        resolve=alt.Resolve(scale=alt.ScaleResolveMap(y="independent")),
        config=alt.Config(view=alt.ViewConfig(stroke="#bbb"),
                          axis=alt.AxisConfig(labelColor="#222", gridColor="#e6e6e6")),
    )


def trajectory_chart(series: Mapping[str, pd.DataFrame], lang: str, *,
                     indicator_ids: Sequence[str] | None = None, columns: int = 3,
                     large: bool = False, colors: Sequence[str] | None = None,
                     dashed: Sequence[str] = (), bands: pd.DataFrame | None = None,
                     observed: Any = None) -> TrustedFacetChart:
    """Small multiples of every indicator, 2020–2035: one line per scenario, targets marked.

    One faceted Altair chart (a single spec, cheap to draw on every slider move), each panel
    with its own y scale and the indicator's name and unit as its title.

    Parameters
    ----------
    series : mapping
        Display label → tidy results; lines are drawn in this order and colour.
    lang : {"zh", "en"}
    indicator_ids : sequence of str, optional
        Panels to draw, default every indicator (table order).
    columns : int
        Panels per row.
    large : bool
        Larger type and panels (meeting mode).
    colors : sequence of str, optional
        One colour per series (default :data:`PALETTE`).
    dashed : sequence of str
        Labels of series drawn dashed (a reference scenario).
    bands : DataFrame, optional
        5–95 % bands of the first series (``UncertaintyResult.bands()``), shaded behind it.
    observed : simulator.actuals.Actuals, optional
        Actuals drawn as points (levels ●, lower bounds ▲, upper bounds ▼, with a legend); the
        time axis starts at the earliest one drawn if that is before 2020.
    """
    labels = tuple(series)
    data = chart_frame(series, lang, indicator_ids, width=26 if large else 30, bands=bands,
                       observed=observed)
    panel_order = tuple(dict.fromkeys(data.loc[data["layer"] != "actual", "panel"]))
    template = _trajectory_template(lang, labels, panel_order, columns,
                                    large, tuple(_colors(labels, colors)), tuple(dashed),
                                    bands is not None, actual_kinds(observed),
                                    first_chart_year(observed, indicator_ids))
    chart = template.copy(deep=False)  # the template is shared: never mutate it
    chart.data = data
    return chart


class TrustedLayerChart(alt.LayerChart):
    """A layered chart whose structure is checked by the tests (see :class:`TrustedFacetChart`)."""

    def to_dict(self, validate: bool = False, **kwargs: Any) -> dict[str, Any]:
        return super().to_dict(validate=validate, **kwargs)


@functools.lru_cache(maxsize=256)
def _detail_template(indicator_id: str, lang: str, labels: tuple[str, ...],
                     colors: tuple[str, ...], dashed: tuple[str, ...],
                     band: bool = False, kinds: tuple[str, ...] = (),
                     start: int = 2020) -> TrustedLayerChart:
    ind = tables.indicator(indicator_id)
    x = alt.X(field="time", type="quantitative", title=ui("year", lang),
              scale=alt.Scale(domain=[start, 2035], nice=False),
              axis=alt.Axis(format="d", values=list(range(start, 2036)), labelFontSize=14,
                            titleFontSize=15))
    y_title = (f"{label(ind, lang)}({unit(ind, lang)})" if lang == "zh"
               else f"{label(ind, lang)} ({unit(ind, lang)})")
    y = alt.Y(field="value", type="quantitative", title=y_title, scale=alt.Scale(zero=False),
              axis=alt.Axis(labelFontSize=14, titleFontSize=15, titleLimit=420))
    color = alt.Color(field="series", type="nominal",
                      scale=alt.Scale(domain=list(labels), range=list(colors)),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=15,
                                        labelLimit=400, symbolStrokeWidth=3))
    dash = alt.StrokeDash(field="series", type="nominal",
                          scale=alt.Scale(domain=list(labels),
                                          range=[[6, 4] if s in dashed else [1, 0]
                                                 for s in labels]), legend=None)
    tooltip = [alt.Tooltip(field="series", type="nominal", title=ui("scenario_label", lang)),
               alt.Tooltip(field="time", type="quantitative", title=ui("year", lang),
                           format="d"),
               alt.Tooltip(field="text", type="nominal", title=" ")]
    is_line = [alt.FilterTransform(filter="datum.layer == 'line'")]
    is_target = [alt.FilterTransform(filter="datum.layer == 'target'")]
    lines = alt.Chart(mark=alt.MarkDef(type="line", point=True, strokeWidth=3),
                      encoding=alt.FacetedEncoding(x=x, y=y, color=color, strokeDash=dash,
                                                   tooltip=tooltip),
                      transform=is_line)
    marks = alt.Chart(mark=alt.MarkDef(type="point", shape="diamond", filled=True, size=260,
                                       color=TARGET_COLOR, opacity=1),
                      encoding=alt.FacetedEncoding(x=x, y=y, tooltip=[
                          alt.Tooltip(field="text", type="nominal", title=ui("target", lang))]),
                      transform=is_target)
    texts = alt.Chart(mark=alt.MarkDef(type="text", align="right", dx=-10, dy=-12, fontSize=14,
                                       color=TARGET_COLOR, fontWeight="bold"),
                      encoding=alt.FacetedEncoding(x=x, y=y, text=alt.Text(field="text",
                                                                           type="nominal")),
                      transform=is_target)
    return TrustedLayerChart(
        layer=([_band_layer(x, y, lang)] if band else []) + [lines, marks, texts]
        + ([_actual_layer(x, y, lang, kinds, False)] if kinds else []), height=420,
        title=alt.TitleParams(text=label(ind, lang), fontSize=18, anchor="start"))


def detail_chart(series: Mapping[str, pd.DataFrame], indicator_id: str, lang: str, *,
                 colors: Sequence[str] | None = None, dashed: Sequence[str] = (),
                 bands: pd.DataFrame | None = None, observed: Any = None) -> TrustedLayerChart:
    """One indicator, large, with titled axes (year; the indicator's unit) and labelled targets
    (with ``bands``: the first series' 5–95 % band shaded behind it; with ``observed``: its
    actuals as points, as in :func:`trajectory_chart`)."""
    labels = tuple(series)
    mine = None if observed is None else [a for a in observed if a.indicator == indicator_id]
    template = _detail_template(indicator_id, lang, labels, tuple(_colors(labels, colors)),
                                tuple(dashed), bands is not None, actual_kinds(mine),
                                first_chart_year(mine))
    chart = template.copy(deep=False)  # the template is shared: never mutate it
    chart.data = chart_frame(series, lang, [indicator_id], bands=bands, observed=mine)
    return chart


# --------------------------------------------------------------------------------------------
# Exports

def results_csv(series: Mapping[str, pd.DataFrame]) -> bytes:
    """Tidy results of several scenarios as CSV bytes (UTF-8 with BOM, so Excel shows Chinese;
    text that a spreadsheet would read as a formula is quoted, :func:`simulator.inputs.csv_cell`)."""
    frame = pd.concat(list(series.values()), ignore_index=True)
    return inputs.to_csv(frame).encode("utf-8-sig")


def scorecard_csv(cards: Iterable[pd.DataFrame]) -> bytes:
    """Scorecards (one or several scenarios) as CSV bytes (UTF-8 with BOM, formulas quoted)."""
    frame = pd.concat(list(cards), ignore_index=True)
    return inputs.to_csv(frame).encode("utf-8-sig")


def settings_table(scn: Scenario) -> pd.DataFrame:
    """A scenario's lever and assumption settings with names, units and plan clauses."""
    rows = []
    for lev in tables.levers():
        rows.append({"kind": "lever", "id": lev.id, "name_zh": lev.name_zh,
                     "name_en": lev.name_en, "unit_zh": lev.unit_zh, "unit_en": lev.unit_en,
                     **dict(zip(tables.PERIODS, scn.levers[lev.id])),
                     "default_2020": lev.default, "plan_clause": lev.plan_clause})
    for ass in tables.assumptions():
        value = scn.assumptions[ass.id]
        rows.append({"kind": "assumption", "id": ass.id, "name_zh": ass.name_zh,
                     "name_en": ass.name_en, "unit_zh": ass.unit_zh, "unit_en": ass.unit_en,
                     **{p: value for p in tables.PERIODS}, "default_2020": ass.default,
                     "plan_clause": ""})
    return pd.DataFrame(rows)


def _sheet_name(text: str, used: set[str]) -> str:
    name = "".join(c for c in text if c not in "[]:*?/\\")[:28] or "sheet"
    base, i = name, 2
    while name in used:
        name = f"{base[:26]}-{i}"
        i += 1
    used.add(name)
    return name


def results_excel(scenarios: Mapping[str, Scenario], series: Mapping[str, pd.DataFrame],
                  cards: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook of scenarios: scorecards, results (tidy and by year) and settings.

    All three mappings are keyed by the same display labels. Text cells that a spreadsheet
    would read as a formula are quoted (:func:`simulator.inputs.csv_safe`).
    """
    used: set[str] = set()
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        inputs.csv_safe(pd.concat([c.assign(scenario=k) for k, c in cards.items()],
                                  ignore_index=True)).to_excel(
            xl, sheet_name=_sheet_name("scorecard", used), index=False)
        inputs.csv_safe(pd.concat([r.assign(scenario=k) for k, r in series.items()],
                                  ignore_index=True)).to_excel(
            xl, sheet_name=_sheet_name("results", used), index=False)
        for key, res in series.items():
            wide = res.pivot(index="time", columns="variable", values="value")
            order = [i.id for i in tables.indicators() if i.id in wide.columns]
            wide = wide[order]
            wide.columns = [f"{i.name_zh} {i.name_en} [{i.unit_zh}]"
                            for i in tables.indicators() if i.id in order]
            wide.index = wide.index.astype(int)
            wide.index.name = "year"
            wide.to_excel(xl, sheet_name=_sheet_name(f"by year {key}", used))
        for key, scn in scenarios.items():
            inputs.csv_safe(settings_table(scn)).to_excel(xl, sheet_name=_sheet_name(f"settings {key}", used),
                                         index=False)
    return buf.getvalue()


_CJK_PREFERRED = ("Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Noto Sans CJK TC",
                  "Noto Sans CJK JP", "Noto Serif CJK SC", "AR PL UMing CN")
_mpl_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The name of a font matplotlib can use for Chinese, or None if the system has none.

    Looks in matplotlib's font list first, then registers the files ``fc-list :lang=zh``
    reports (matplotlib's cache may predate an installed ``fonts-noto-cjk``).
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _CJK_PREFERRED if n in names), None)

    found = known()
    if found or shutil.which("fc-list") is None:
        return found
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True,
                             timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        path = line.split(":")[0].strip()
        if path and Path(path).is_file():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


def _figure_scorecard(card: pd.DataFrame, lang: str, title: str):
    from matplotlib.figure import Figure

    disp = scorecard_display(card, lang)
    header = ["", ui("col_indicator", lang), ui("col_year", lang), ui("col_target", lang),
              ui("col_value", lang), ui("col_status", lang), ui("col_margin", lang),
              ui("col_first", lang), ui("col_unit", lang)]
    cells = [["★" if r["doubling"] else "", "\n".join(wrap(r["indicator"], 40)), r["year"],
              r["target"], r["value"], r["status"], r["margin"], r["first_met"], r["unit"]]
             for _, r in disp.iterrows()]
    fig = Figure(figsize=(13.33, 7.5))
    ax = fig.add_axes((0.01, 0.02, 0.98, 0.86))
    ax.axis("off")
    fig.text(0.01, 0.97, title, fontsize=17, weight="bold", va="top")
    s = summary(card)
    fig.text(0.01, 0.915, f"{ui('targets_met', lang)} {s['met']}/{s['total']} · "
             f"{ui('doubling_met', lang)} {s['doubling_met']}/{s['doubling_total']}",
             fontsize=13, va="top")
    table = ax.table(cellText=cells, colLabels=header, loc="upper center", cellLoc="left",
                     colWidths=[0.025, 0.36, 0.055, 0.09, 0.09, 0.09, 0.08, 0.08, 0.09])
    table.auto_set_font_size(False)
    table.set_fontsize(11)
    table.scale(1, 1.45)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        if row == 0:
            cell.set_facecolor("#eeeeee")
            cell.set_text_props(weight="bold")
        elif col in (4, 5):
            met = bool(disp.iloc[row - 1]["met"])
            cell.get_text().set_color(MET_COLOR if met else MISSED_COLOR)
            cell.set_text_props(weight="bold")
        if col in (3, 4, 6) and row > 0:
            cell.get_text().set_horizontalalignment("right")
    fig.text(0.01, 0.005, ui("doubling_note", lang), fontsize=9, va="bottom", color="#444")
    return fig


def _figure_trajectories(series: Mapping[str, pd.DataFrame], lang: str, title: str,
                         indicator_ids: Sequence[str], colors: Sequence[str],
                         dashed: Sequence[str]):
    from matplotlib.figure import Figure

    inds = [tables.indicator(i) for i in indicator_ids]
    ncols = 3 if len(inds) > 4 else 2
    nrows = max(2, math.ceil(len(inds) / ncols))
    fig = Figure(figsize=(13.33, 7.5))  # 16:9, the shape of a slide
    fig.suptitle(title, fontsize=16, weight="bold", x=0.01, ha="left")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    targets = target_levels(next(iter(series.values())))
    for ax, ind in zip(axes.flat, inds):
        for (name, res), col in zip(series.items(), colors):
            part = res[res["variable"] == ind.id].dropna(subset=["value"])
            ax.plot(part["time"], part["value"], color=col, lw=2.2, marker="o", ms=2.5,
                    ls="--" if name in dashed else "-", label=name)
        mine = targets[targets["indicator"] == ind.id]
        if len(mine):
            ax.scatter(mine["year"], mine["level"], marker="D", s=55, color=TARGET_COLOR,
                       zorder=5, label=ui("target", lang))
        ax.set_title("\n".join(wrap(label(ind, lang), 34)), fontsize=11, loc="left")
        ax.set_ylabel(unit(ind, lang), fontsize=10)
        ax.set_xlim(2019.5, 2035.5)
        ax.set_xticks([2020, 2025, 2030, 2035])
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=9)
    for ax in list(axes.flat)[len(inds):]:
        ax.axis("off")
    handles, labels_ = axes.flat[0].get_legend_handles_labels()
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels_:
                handles.append(h)
                labels_.append(lab)
    fig.legend(handles, labels_, loc="upper right", ncol=len(labels_), fontsize=11,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def figure_pack(series: Mapping[str, pd.DataFrame], card: pd.DataFrame, lang: str, *,
                title: str, colors: Sequence[str] | None = None, dashed: Sequence[str] = (),
                fallback_labels: Mapping[str, str] | None = None) -> bytes:
    """Figures for slides as a ZIP: 16:9 PNG files (150 dpi) and one PDF of every figure.

    Parameters
    ----------
    series : mapping
        Display label → tidy results (the first one's scorecard is ``card``).
    card : DataFrame
        The scorecard of the first scenario of ``series``.
    lang : {"zh", "en"}
        Label language. Chinese needs a CJK font (:func:`cjk_font`); without one the pack falls
        back to English labels and says so in ``README.txt``.
    title : str
        Title of the figures (the scenario's name).
    fallback_labels : mapping, optional
        English replacements for the series labels and title, used when falling back.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import PdfPages

    font = cjk_font()
    note = ""
    if lang == "zh" and font is None:
        lang = "en"
        note = ui("no_cjk_font", "en") + "\n"
        if fallback_labels:
            series = {fallback_labels.get(k, k): v for k, v in series.items()}
            dashed = [fallback_labels.get(k, k) for k in dashed]
            title = fallback_labels.get(title, title)
    colors = _colors(list(series), colors)
    # a list of families gives per-glyph fallback: ✓ ✗ ★ come from DejaVu Sans
    families = ([font] if font else []) + ["DejaVu Sans"]
    rc = {"font.family": families, "axes.unicode_minus": False}
    buf = io.BytesIO()
    with _mpl_lock, matplotlib.rc_context(rc):
        figures = {
            "1-scorecard": _figure_scorecard(card, lang, f"{title} — {ui('tab_scorecard', lang)}"),
            "2-key-indicators": _figure_trajectories(
                series, lang, f"{title} — {ui('key_charts', lang)}", key_indicator_ids(),
                colors, dashed),
        }
        ids = [i.id for i in tables.indicators()]
        pages = [ids[k:k + 6] for k in range(0, len(ids), 6)]
        for n, page in enumerate(pages, start=1):
            figures[f"3-all-indicators-{n}"] = _figure_trajectories(
                series, lang, f"{title} — {ui('all_charts', lang)} ({n}/{len(pages)})", page,
                colors, dashed)
        pngs = {}
        pdf_buf = io.BytesIO()
        with PdfPages(pdf_buf) as pdf:
            for name, fig in figures.items():
                FigureCanvasAgg(fig)
                png = io.BytesIO()
                fig.savefig(png, format="png", dpi=150)
                pngs[name] = png.getvalue()
                pdf.savefig(fig)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in pngs.items():
            zf.writestr(f"{name}.png", data)
        zf.writestr("figures.pdf", pdf_buf.getvalue())
        zf.writestr("README.txt", note + "Figures made by the Guangyuan STI plan simulator "
                    "(app.py): " + ", ".join(f"{n}.png" for n in figures)
                    + " and all of them in figures.pdf.\n")
    return buf.getvalue()


def deferred(fn: Callable[..., bytes], *args: Any, **kwargs: Any) -> Callable[[], bytes]:
    """A no-argument callable computing ``fn(*args, **kwargs)`` once, for deferred downloads."""
    return functools.lru_cache(maxsize=1)(functools.partial(fn, *args, **kwargs))


# --------------------------------------------------------------------------------------------
# Uncertainty, "what would it take" (the solver) and sensitivity: the backends' results as
# display tables and charts

#: Runs of the live uncertainty ensemble and its seed (fixed: the same draws on every move).
UNCERTAINTY_N = 1000
UNCERTAINTY_SEED = 0
#: Draws of the uncertain constants when the solver must reach targets with a probability.
SOLVE_N = 100
SOLVE_SEED = 0
#: The probability requirement of the solver: slider range and default.
SOLVE_P_RANGE = (0.5, 0.95, 0.05)
SOLVE_P_DEFAULT = 0.8
#: Morris screen of the sensitivity view: trajectories, seed, inputs shown.
SENSITIVITY_TRAJECTORIES = 20
SENSITIVITY_SEED = 0
SENSITIVITY_TOP = 15
#: The year whose missed targets the solver panel proposes by default.
SOLVE_DEFAULT_YEAR = 2025


def target_by_key(key: str) -> tables.Target:
    """The target with this key (``tech_smes@2025``)."""
    for tgt in tables.targets():
        if tgt.key == key:
            return tgt
    raise KeyError(f"unknown target {key!r}")


def target_label(key: str, lang: str) -> str:
    """A target's name and year for pickers and messages: ``备案科技型中小企业数 · 2025``."""
    tgt = target_by_key(key)
    return f"{label(tgt, lang)} · {tgt.year}"


def missed_targets(card: pd.DataFrame, year: int = SOLVE_DEFAULT_YEAR) -> list[str]:
    """Keys of the targets of ``year`` that a scorecard misses, in table order."""
    part = card[(card["year"] == year) & ~card["met"].astype(bool)]
    return [str(k) for k in part["key"]]


def _on_grid_above(value: float, lever: tables.Lever) -> float:
    """``value`` rounded up to the lever's slider step (within its range), without float noise."""
    k = math.ceil((value - lever.min) / lever.step - 1e-6)
    return clean_value(min(max(lever.min + k * lever.step, lever.min), lever.max))


def solution_levers(result: Any, levers: Mapping[str, Sequence[float]]
                    ) -> dict[str, tuple[float, ...]]:
    """The lever settings that apply a solver answer to the sliders.

    The periods the solver set (``result.periods``) take its level rounded up to the slider's
    step; the other periods keep ``levers`` (the session's current settings).
    """
    out = {}
    for lev in tables.levers():
        values = list(levers[lev.id])
        for p in result.periods:
            values[tables.PERIODS.index(p)] = _on_grid_above(result.levers[lev.id], lev)
        out[lev.id] = tuple(values)
    return out


def periods_text(periods: Sequence[str]) -> str:
    """Plan periods as one span: ``("2021-2025", "2026-2030")`` → ``2021–2030``."""
    return f"{periods[0][:4]}–{periods[-1][-4:]}"


def solve_table(result: Any, lang: str) -> pd.DataFrame:
    """A solver answer as a display table: lever, 2020 level, proposed value, unit, cost.

    One row per lever (table order); the cost is 万元 a year above the 2020 level
    (``models/lever_costs.csv``). The proposed value is the solver's, with 4 significant digits.
    """
    from .solver import lever_costs
    costs = lever_costs()
    rows = []
    for lev in tables.levers():
        value = float(result.levers[lev.id])
        cost = costs[lev.id].cost_per_unit * (value - lev.default)
        rows.append({
            ui("col_lever", lang): label(lev, lang),
            ui("col_level_2020", lang): plain_number(lev.default),
            ui("col_proposed", lang, periods=periods_text(result.periods)): f"{value:.4g}",
            ui("col_unit", lang): unit(lev, lang),
            ui("col_cost", lang): f"{cost:,.0f}",
        })
    return pd.DataFrame(rows)


def solve_summary(result: Any, lang: str) -> tuple[bool, str]:
    """Whether a solver answer is reachable, and the message saying so (with the binding
    target) in ``lang``."""
    how = (ui("solve_how_det", lang) if result.probability is None
           else ui("solve_how_p", lang, p=format_probability(result.probability)))
    names = "、".join if lang == "zh" else "; ".join
    binding = names(target_label(k, lang) for k in result.binding) or "—"
    if result.feasible:
        text = ui("solve_reachable", lang, n=len(result.margins), how=how)
    else:
        missed = [k for k, m in zip(result.margins["key"], result.margins["margin"]) if m < 0]
        text = ui("solve_unreachable", lang, how=how,
                  missed=names(target_label(k, lang) for k in missed) or "—")
    return bool(result.feasible), f"{text} {ui('solve_binding', lang, names=binding)}"


def solve_cost_text(result: Any, lang: str) -> str:
    return ui("solve_cost", lang, annual=f"{result.cost_per_year:,.0f}", years=result.years,
              total=f"{result.cost_total:,.0f}")


def sensitivity_frame(table: pd.DataFrame, target_key: str, lang: str,
                      k: int = SENSITIVITY_TOP) -> pd.DataFrame:
    """The ``k`` most influential inputs of one target from a Morris table
    (``SensitivityResult.table``), most influential first.

    Columns: ``rank, input`` (lever id or constant), ``label`` (a lever's name in ``lang``, a
    constant's Python name), ``kind`` (display text), ``mu_star, conf, lo, hi`` (the 95 %
    interval, clipped at 0).
    """
    part = table[table["target"] == target_key].sort_values("rank").head(k)
    if part.empty:
        raise KeyError(f"target {target_key!r} is not in the table")
    lever_ids = {lev.id for lev in tables.levers()}
    labels = [label(tables.lever(i), lang) if kind == "lever" and i in lever_ids else i
              for i, kind in zip(part["input"], part["kind"])]
    mu, conf = part["mu_star"].astype(float).to_numpy(), part["mu_star_conf"].astype(float).to_numpy()
    return pd.DataFrame({
        "rank": part["rank"].astype(int).to_numpy(), "input": part["input"].to_numpy(),
        "label": labels,
        "kind": [ui("kind_lever" if kind == "lever" else "kind_constant", lang)
                 for kind in part["kind"]],
        "mu_star": mu, "conf": conf, "lo": np.clip(mu - conf, 0, None), "hi": mu + conf})


def sensitivity_display(frame: pd.DataFrame, lang: str, decimals: int = 3) -> pd.DataFrame:
    """:func:`sensitivity_frame` as a display table with headings in ``lang``."""
    return pd.DataFrame({
        ui("col_rank", lang): frame["rank"].to_numpy(),
        ui("col_input", lang): frame["label"].to_numpy(),
        ui("col_kind", lang): frame["kind"].to_numpy(),
        ui("col_mu_star", lang): [f"{v:.{decimals}g}" for v in frame["mu_star"]],
        ui("col_conf", lang): [f"{v:.{decimals}g}" for v in frame["conf"]]})


def sensitivity_chart(frame: pd.DataFrame, lang: str, title: str = "") -> alt.LayerChart:
    """Horizontal bars of μ* with 95 % confidence intervals, most influential on top, coloured
    by kind (policy lever or uncertain constant)."""
    order = list(frame["label"])
    y = alt.Y(field="label", type="nominal", sort=order, title=None,
              axis=alt.Axis(labelLimit=360, labelFontSize=13, labelOverlap=False))
    kinds = [ui("kind_lever", lang), ui("kind_constant", lang)]
    color = alt.Color(field="kind", type="nominal",
                      scale=alt.Scale(domain=kinds, range=["#e07b00", CURRENT_COLOR]),
                      legend=alt.Legend(title=None, orient="top", labelFontSize=13))
    tooltip = [alt.Tooltip(field="label", type="nominal", title=ui("col_input", lang)),
               alt.Tooltip(field="kind", type="nominal", title=ui("col_kind", lang)),
               alt.Tooltip(field="mu_star", type="quantitative", title="μ*", format=".3g"),
               alt.Tooltip(field="conf", type="quantitative", title=ui("col_conf", lang),
                           format=".3g")]
    bars = alt.Chart(mark=alt.MarkDef(type="bar", opacity=0.85),
                     encoding=alt.FacetedEncoding(
                         y=y, x=alt.X(field="mu_star", type="quantitative",
                                      title=ui("col_mu_star", lang)),
                         color=color, tooltip=tooltip))
    errors = alt.Chart(mark=alt.MarkDef(type="rule", color="#222", strokeWidth=1.5),
                       encoding=alt.FacetedEncoding(
                           y=y, x=alt.X(field="lo", type="quantitative"),
                           x2=alt.X2(field="hi")))
    return alt.LayerChart(layer=[bars, errors], data=frame, height=alt.Step(step=26),
                          title=alt.TitleParams(text=title, anchor="start") if title else
                          alt.Undefined)


# --------------------------------------------------------------------------------------------
# Monitoring: actuals against the plan (issue 13; docs/app.md, "Monitoring")

#: Columns a scorecard gains with actuals (:func:`with_progress`), in this order.
PROGRESS_COLUMNS = ["actual_value", "actual_year", "actual_kind", "base_2020", "progress_pct",
                    "progress_relation", "time_progress_pct"]
#: Indicators that are themselves an average growth rate since 2020 (a target on them is a
#: growth target: progress = achieved / required).
RATE_INDICATORS = frozenset({"rd_spending_growth"})
#: Shapes of observed points on the charts, by kind.
ACTUAL_SHAPES = {"level": "circle", "lower_bound": "triangle-up", "upper_bound": "triangle-down"}
ACTUAL_COLOR = "#111111"
#: Colour of the recalibrated projection.
RECAL_COLOR = "#e07b00"
#: Starts of the recalibration's multi-start fit in the app (the command line's default is 16;
#: fewer starts keep the wait to seconds, docs/app.md "Monitoring").
RECAL_STARTS = 4


def actuals_digest(obs: Any) -> str:
    """The hash of a file of actuals' figures (what the recalibration is cached by)."""
    from .calibration import actuals_digest as digest
    return digest(obs)


def actuals_private_note() -> str:
    """The note that actuals never leave the session, in both languages (shown whatever the
    page's language)."""
    return f"{UI_STRINGS['actuals_private']['zh']}  \n{UI_STRINGS['actuals_private']['en']}"


def read_actuals_upload(data: bytes, filename: Any, lang: str) -> tuple[Any, str]:
    """An uploaded file of actuals, validated as the command line validates one
    (:func:`simulator.actuals.loads`).

    Returns
    -------
    (Actuals, "") or (None, message)
        ``message`` is one line (the validation's own, or, for a file over
        :data:`simulator.inputs.MAX_FILE_BYTES`, a sentence in ``lang``); plain text: escape it
        (:func:`md_text`) to show it. Anything but an input error propagates.
    """
    from . import actuals as actuals_mod
    return _read_validated(data, filename, lang, actuals_mod.loads, inputs.MAX_FILE_BYTES)


def actuals_summary(obs: Any, lang: str) -> str:
    """One line about a loaded file of actuals (escape it to show it: it names the file)."""
    return ui("actuals_ok", lang, name=obs.source, n=len(obs), k=len(obs.indicators()),
              year=plain_number(max(a.year for a in obs)))


def latest_observation(obs: Any, indicator_id: str, up_to: float) -> Any:
    """The latest observation of ``indicator_id`` at or before ``up_to``, a level or a bound
    (a level wins over a bound of the same year), or None."""
    found = [a for a in obs if a.indicator == indicator_id and a.year <= up_to]
    if not found:
        return None
    return max(found, key=lambda a: (a.year, a.kind == "level"))


def base_value_2020(indicator_id: str, results: pd.DataFrame | None = None) -> float:
    """The 2020 value progress is measured from: ``value_2020`` of ``models/indicators.csv``,
    else the model's 2020 value in ``results`` (its initial state), else NaN."""
    ind = tables.indicator(indicator_id)
    if ind.value_2020 is not None:
        return float(ind.value_2020)
    if results is None:
        return math.nan
    at = results[(results["variable"] == indicator_id)
                 & np.isclose(results["time"].to_numpy(float), goals.BASE_YEAR)]
    return float(at["value"].iloc[0]) if len(at) else math.nan


def progress_pct(target: tables.Target, value: float, year: float, base: float) -> float:
    """完成进度 of one observed ``value`` (at ``year``) toward ``target``, in percent.

    - a level target: ``(value − base) / (target − base) × 100`` (``base``: the 2020 value);
    - a growth target (``kind == "cagr"``, or a target on an indicator that is itself an
      average growth since 2020, :data:`RATE_INDICATORS`): the average annual growth achieved
      since 2020 divided by the growth required, × 100; for a ``cagr`` target the achieved
      growth is ``((value / base) ** (1 / (year − 2020)) − 1) × 100``.

    Not clipped: above 100 means exceeded, below 0 moved away from the target. NaN where it
    is not defined: the 2020 value equals the target (nothing had to change), a growth target
    of 0, an observation at or before 2020 for a growth target, a base ≤ 0 for a growth rate,
    or a base or value that is not a finite number.
    """
    if not (math.isfinite(value) and math.isfinite(target.target)):
        return math.nan
    if target.indicator in RATE_INDICATORS:
        return value / target.target * 100.0 if target.target != 0 else math.nan
    if not math.isfinite(base):
        return math.nan
    if target.kind == "cagr":
        if year <= goals.BASE_YEAR or base <= 0 or value < 0 or target.target == 0:
            return math.nan
        achieved = ((value / base) ** (1.0 / (year - goals.BASE_YEAR)) - 1.0) * 100.0
        return achieved / target.target * 100.0
    if target.target == base:
        return math.nan
    return (value - base) / (target.target - base) * 100.0


def _progress_rises(target: tables.Target, base: float) -> bool:
    """Whether progress grows with the observed value (it does unless the target lies below
    the 2020 value, or a growth target is negative)."""
    if target.indicator in RATE_INDICATORS or target.kind == "cagr":
        return target.target > 0
    return target.target > base


def with_progress(card: pd.DataFrame, obs: Any, results: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """A one-scenario scorecard with the latest actual of each target and its progress.

    For every target, the latest observation of its indicator at or before the target year
    (:func:`latest_observation`) gives ``actual_value``, ``actual_year``, ``actual_kind``;
    ``base_2020`` is :func:`base_value_2020`; ``progress_pct`` is :func:`progress_pct`;
    ``progress_relation`` is ``"="`` for a level, ``">="`` / ``"<="`` when the observation is a
    bound (a lower bound on the value is a lower bound on the progress when progress rises with
    the value); ``time_progress_pct`` is ``(actual_year − 2020) / (target year − 2020) × 100``.
    Targets without an observation get NaN and an empty kind.
    """
    rows = []
    by_id = {t.key: t for t in tables.targets()}
    for _, r in card.iterrows():
        tgt = by_id[r["key"]]
        base = base_value_2020(tgt.indicator, results)
        found = latest_observation(obs, tgt.indicator, float(r["year"]))
        if found is None:
            rows.append({"actual_value": math.nan, "actual_year": math.nan, "actual_kind": "",
                         "base_2020": base, "progress_pct": math.nan, "progress_relation": "",
                         "time_progress_pct": math.nan})
            continue
        pct = progress_pct(tgt, found.value, found.year, base)
        relation = "="
        if found.kind != "level":
            rises = _progress_rises(tgt, base)
            relation = ">=" if (found.kind == "lower_bound") == rises else "<="
        rows.append({
            "actual_value": found.value, "actual_year": found.year, "actual_kind": found.kind,
            "base_2020": base, "progress_pct": pct,
            "progress_relation": relation if math.isfinite(pct) else "",
            "time_progress_pct": (found.year - goals.BASE_YEAR) / (tgt.year - goals.BASE_YEAR)
            * 100.0})
    extra = pd.DataFrame(rows, columns=PROGRESS_COLUMNS, index=card.index)
    return pd.concat([card.drop(columns=[c for c in PROGRESS_COLUMNS if c in card.columns]),
                      extra], axis=1)


def format_actual(value: float, year: float, kind: str, decimals: int) -> str:
    """An observation for the scorecard: ``320.0 (2023)``, ``≥ 2.00 (2023)``, ``—``."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    prefix = {"lower_bound": "≥ ", "upper_bound": "≤ "}.get(kind, "")
    return f"{prefix}{format_number(value, decimals)} ({plain_number(year)})"


def format_progress(pct: float, relation: str = "=") -> str:
    """A progress as ``62.0%`` (one decimal; ``≥ 62.0%`` for a bound; ``—`` if undefined)."""
    if not isinstance(pct, (int, float)) or not math.isfinite(pct):
        return "—"
    prefix = {">=": "≥ ", "<=": "≤ "}.get(relation, "")
    sign = "−" if pct < 0 else ""
    return f"{prefix}{sign}{abs(pct):.1f}%"


# --------------------------------------------------------------------------------------------
# The 15th FYP: 2030 milestones (simulator.milestones), for the "十五五 目标测算" tab

def _number_or_dash(value: Any, decimals: int) -> str:
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    return format_number(value, decimals)


def milestones_display(res: Any, lang: str) -> pd.DataFrame:
    """The draft 2030 target table of a :class:`simulator.milestones.Milestones` as display
    strings with headers in ``lang``: indicator, unit, 2025 value and its source, 2030
    milestone, 2035 goal, the path's 2035 value, required average growth (1 decimal)."""
    rows = []
    for _, r in res.table.iterrows():
        ind = tables.indicator(r["indicator"])
        dec = ind.decimals
        source = (ui("ms_src_actual", lang, year=plain_number(r["base_year"]))
                  if r["base_source"] == "actual" else ui("ms_src_simulated", lang))
        goal = ("—" if not r["goal_comparison"] else
                f"{_SYMBOL[r['goal_comparison']]} {format_number(r['goal_2035'], dec)}")
        growth = r["required_growth_pct_per_year"]
        rows.append({
            ui("col_indicator", lang): label(ind, lang), ui("col_unit", lang): unit(ind, lang),
            ui("ms_col_2025", lang): _number_or_dash(r["base_value"], dec),
            ui("ms_col_source", lang): source,
            ui("ms_col_2030", lang): _number_or_dash(r["milestone_2030"], dec),
            ui("ms_col_2035", lang): goal,
            ui("ms_col_path_2035", lang): _number_or_dash(r["path_2035"], dec),
            ui("ms_col_growth", lang): _number_or_dash(growth, 1),
        })
    return pd.DataFrame(rows)


def milestones_levers_display(res: Any, lang: str) -> pd.DataFrame:
    """The lever path of a :class:`simulator.milestones.Milestones`: lever, unit, period, the
    scenario's level, the path's level, the extra cost (万元 a year), headers in ``lang``."""
    rows = []
    for _, r in res.levers.iterrows():
        lev = next(v for v in tables.levers() if v.id == r["lever"])
        rows.append({
            ui("col_lever", lang): label(lev, lang), ui("col_unit", lang): unit(lev, lang),
            ui("ms_col_period", lang): r["period"].replace("-", "–"),
            ui("ms_col_scenario", lang): plain_number(r["scenario_value"]),
            ui("ms_col_path", lang): plain_number(r["path_value"]),
            ui("col_cost", lang): f"{r['extra_cost_per_year_wan_yuan']:,.0f}",
        })
    return pd.DataFrame(rows)


def milestones_csv(res: Any) -> bytes:
    """The milestones and the lever path (:func:`simulator.milestones.to_frame`) as CSV bytes
    (UTF-8 with BOM, formulas quoted), the same columns as ``milestones --format csv``."""
    from . import milestones as milestones_mod
    return inputs.to_csv(milestones_mod.to_frame(res)).encode("utf-8-sig")


# --------------------------------------------------------------------------------------------
# The budget beside the sliders

def budget_frame(periods: Sequence[Any], lang: str) -> pd.DataFrame:
    """The per-period budget summary (:func:`simulator.budget.summarise`) as a small table in
    ``lang``: period, S&T budget, lever outlays, funded share, other sources (亿元 a year)."""
    return pd.DataFrame({
        ui("budget_period", lang): [p.period.replace("-", "–") for p in periods],
        ui("budget_budget", lang): [f"{p.budget:.2f}" for p in periods],
        ui("budget_requested", lang): [f"{p.requested:.2f}" for p in periods],
        ui("budget_funded", lang): [f"{100 * p.funded:.0f}%" for p in periods],
        ui("budget_other", lang): [f"{p.ip_outlays + p.tax_forgone:.2f}" for p in periods],
    })


def budget_message(periods: Sequence[Any], lang: str) -> tuple[str, str]:
    """(``"error"`` or ``"ok"``, the sentence): over budget in which periods, by how much."""
    over = [p for p in periods if p.over_budget]
    if not over:
        return "ok", ui("budget_ok", lang)
    sep = "、" if lang == "zh" else ", "
    gap = sum(p.shortfall for p in over) / len(over)
    funded = min(p.funded for p in over)
    return "error", ui("budget_over", lang,
                       periods=sep.join(p.period.replace("-", "–") for p in over),
                       gap=f"{gap:.2f}", funded=f"{100 * funded:.0f}%")


# --------------------------------------------------------------------------------------------
# What moves a target (simulator.drivers)

def period_values(values: Sequence[float]) -> str:
    """A lever's values per plan period as text: one value when the periods agree, else all of
    them joined by " / " ("50 / 60 / 60"); :func:`plain_number`'s 12 digits drop float noise
    (33.000000000000004 → 33)."""
    vals = [plain_number(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else " / ".join(vals)


def driver_effect_text(effect: float, target: tables.Target, lang: str) -> str:
    """A signed effect in the target's unit, with enough digits to be non-zero where it is."""
    if effect == 0 or not np.isfinite(effect):
        return ui("drivers_none", lang)
    digits = max(2, 2 - int(np.floor(np.log10(abs(effect)))))
    return f"{effect:+.{min(digits, 6)}f} {target_unit(target, lang)}"


def drivers_frame(frame: pd.DataFrame, target: tables.Target, lang: str) -> pd.DataFrame:
    """:func:`simulator.drivers.lever_effects` as the table the page shows, in ``lang``."""
    levers = {lev.id: lev for lev in tables.levers()}
    direction = []
    for r in frame.itertuples():
        if r.at_maximum:
            direction.append(ui("drivers_at_max", lang))
        elif r.effect == 0:
            direction.append(ui("drivers_none", lang))
        else:
            direction.append(ui("drivers_helps" if r.helps else "drivers_hurts", lang))
    return pd.DataFrame({
        ui("drivers_lever", lang): [label(levers[i], lang) for i in frame["lever"]],
        ui("drivers_move", lang): [f"{period_values(b)} → {period_values(a)} "
                                   f"{unit(levers[i], lang)}"
                                   for i, b, a in zip(frame["lever"], frame["before"],
                                                      frame["after"])],
        ui("drivers_effect", lang): [driver_effect_text(e, target, lang) for e in frame["effect"]],
        ui("drivers_direction", lang): direction,
        ui("drivers_cost", lang): [f"{c:+,.0f}" for c in frame["cost_per_year"]],
    })


def driver_sentence(row: Mapping[str, Any], target: tables.Target, lang: str) -> str:
    """"+10 % on this lever → +x on this indicator in 2025", for one row of the effects."""
    lev = tables.lever(row["lever"])
    return ui("drivers_sentence", lang, lever=label(lev, lang),
              before=period_values(row["before"]), after=period_values(row["after"]),
              unit=unit(lev, lang), indicator=label(target, lang), year=target.year,
              effect=driver_effect_text(row["effect"], target, lang))


def helpful_drivers(frame: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """The ``top`` levers whose move helps the target most (not at their maximum)."""
    return frame[frame["helps"] & ~frame["at_maximum"]].head(top)


def translate_tab(label: str, old: str, new: str, tab_ids: Sequence[str]) -> str:
    """The label in language ``new`` of the tab labelled ``label`` in ``old`` (unchanged when it
    is no tab's label), so that switching the language keeps the open tab open."""
    for tab_id in tab_ids:
        if label == ui(f"tab_{tab_id}", old):
            return ui(f"tab_{tab_id}", new)
    return label

