"""The page's words in Chinese and English: the interface's own strings (:data:`UI_STRINGS`),
labels, units and help texts of levers, assumptions and targets from the metadata tables, and
the lever groups in the order of the plan's sections.

Nothing here imports Streamlit: every function can be tested on its own.
"""
from __future__ import annotations

import json

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

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
    # meeting mode's choices and the presenter link (issue 14, item 5)
    "meeting_rows": {"zh": "会议页面显示的目标(留空为全部)", "en": "Scorecard rows shown (empty: all)"},
    "meeting_rows_all": {"zh": "全部{n}项目标", "en": "All {n} targets"},
    "meeting_levers": {"zh": "会议页面上的杠杆(最多{n}个)", "en": "Levers on the page (at most {n})"},
    "meeting_levers_none": {"zh": "未选择杠杆", "en": "No lever chosen"},
    "meeting_levers_help": {"zh": "所选杠杆以大滑块显示在会议页面上，不必打开侧栏即可调整。",
                            "en": "The chosen levers stay on the meeting page as large sliders: "
                                  "no need to open the sidebar to move them."},
    "meeting_levers_too_many": {"zh": "最多选择{n}个杠杆；请先移除一个。",
                                "en": "At most {n} levers; remove one first."},
    "meeting_rows_note": {"zh": "记分卡只显示所选的{shown}项目标(共{total}项)。",
                          "en": "The scorecard shows the {shown} chosen targets (of {total})."},
    "presenter_link": {"zh": "演示链接(会议模式)", "en": "Presenter link (meeting mode)"},
    "presenter_link_help": {"zh": "打开即进入会议模式，带当前设置、所选目标行和页面上的杠杆。",
                            "en": "Opens meeting mode with the current settings, the chosen "
                                  "scorecard rows and the levers on the page."},
    # Streamlit's own words on the page, drawn by CSS in the page's language (item 7)
    "st_browse": {"zh": "上传", "en": "Upload"},
    "st_limit": {"zh": "拖放文件到此处，或点击上传；单个文件不超过{limit} · {types}",
                 "en": "Drag and drop a file here or upload; at most {limit} per file · {types}"},
    "st_too_big": {"zh": "文件未被接受：类型或大小不符(上限{limit})",
                   "en": "File not accepted: wrong type or larger than {limit}"},
    "st_enter": {"zh": "按回车键确认", "en": "Press Enter to apply"},
    "choose_option": {"zh": "请选择", "en": "Choose an option"},
    # the hover toolbar of a table (st.dataframe) or chart: its buttons' tooltips
    "st_tb_columns": {"zh": "显示/隐藏列", "en": "Show/hide columns"},
    "st_tb_download": {"zh": "下载为CSV", "en": "Download as CSV"},
    "st_tb_search": {"zh": "搜索", "en": "Search"},
    "st_tb_fullscreen": {"zh": "全屏", "en": "Fullscreen"},
    "st_tb_close_fullscreen": {"zh": "退出全屏", "en": "Close fullscreen"},
    "st_tb_clear": {"zh": "清除选择", "en": "Clear selection"},
    "st_tb_show_data": {"zh": "查看数据", "en": "Show data"},
    "st_tb_show_chart": {"zh": "查看图表", "en": "Show chart"},
    "st_tb_png": {"zh": "下载为PNG", "en": "Download as PNG"},
    "st_tb_svg": {"zh": "下载为SVG", "en": "Download as SVG"},
    "st_tb_spec": {"zh": "复制图表定义(Vega-Lite)", "en": "Copy Vega-Lite spec"},
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
    "drivers_help": {"zh": "每个杠杆在三个规划期都提高约10%(取值为0时提高量程的10%；向上取整到滑块的步长，"
                           "即滑块能取到的值；不超过上限)后，"
                           "该目标的模拟值变化多少；按影响大小排序。只看当前设定附近的局部效果："
                           "告诉你先动哪个杠杆，不告诉你动多少(见“怎样才能达成”)。",
                     "en": "How much the target's simulated value changes when each lever is "
                           "raised by about 10 % in all three plan periods (by 10 % of its range "
                           "where it is 0; rounded up to the slider's step, so that the move is "
                           "one the slider can show; never past its maximum), largest effect "
                           "first. A local "
                           "reading around the current settings: which lever to move first, not "
                           "how far (see “What would it take”)."},
    "drivers_target": {"zh": "目标", "en": "target"},
    "drivers_lever": {"zh": "杠杆", "en": "lever"},
    "drivers_move": {"zh": "提高约10%", "en": "about +10 %"},
    "drivers_effect": {"zh": "对目标的影响", "en": "effect on the target"},
    "drivers_cost": {"zh": "每年增加成本(万元)", "en": "extra cost (10k yuan a year)"},
    "drivers_direction": {"zh": "方向", "en": "direction"},
    "drivers_helps": {"zh": "有助达成", "en": "helps"},
    "drivers_hurts": {"zh": "不利", "en": "hurts"},
    "drivers_none": {"zh": "无影响", "en": "no effect"},
    "drivers_at_max": {"zh": "已达上限", "en": "at its maximum"},
    "drivers_apply": {"zh": "采用：{lever} 提高约10%", "en": "Apply: {lever} about +10 %"},
    "drivers_sentence": {"zh": "{lever}提高约10%({before}→{after} {unit}) → {indicator}{year}年 {effect}",
                         "en": "{lever} about +10 % ({before} → {after} {unit}) → {indicator} in {year}: "
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
    "tab_map": {"zh": "模型结构图", "en": "Model map"},
    "map_intro": {"zh": "模型的存量—流量图，由模型方程自动绘制(与 .mdl 文件中的 Vensim 草图相同)。方框为存量，"
                        "阀门为流量，橙框为规划指标，绿框为政策杠杆，灰色为其他板块的变量。鼠标悬停显示当前情景的取值；"
                        "滚轮缩放，拖动平移。",
                  "en": "The model's stock-and-flow diagram, drawn from its equations (the same as "
                        "the Vensim sketch in the .mdl file). Boxes are stocks, valves flows; "
                        "orange frames are plan indicators, green frames policy levers, grey names "
                        "variables of another sector. Hover for the current scenario's values; "
                        "scroll to zoom, drag to pan."},
    "map_sector": {"zh": "板块", "en": "Sector"},
    "map_all": {"zh": "全部板块(总览)", "en": "All sectors (overview)"},
    "map_loop": {"zh": "突出显示反馈回路", "en": "Highlight a feedback loop"},
    "map_no_loop": {"zh": "(无)", "en": "(none)"},
    "map_loop_in": {"zh": "回路 {loop} 经过：{sectors}。金色为回路中的变量，红色为回路的连接。",
                    "en": "Loop {loop} runs through: {sectors}. Its variables are gold, its "
                          "links red."},
    "map_loop_none": {"zh": "回路 {loop} 在模型结构中没有找到闭合路径。",
                      "en": "No closed path of loop {loop} was found in the model's structure."},
    "map_tt_name": {"zh": "变量", "en": "Variable"},
    "map_tt_kind": {"zh": "类型", "en": "Kind"},
    "map_tt_sector": {"zh": "板块", "en": "Sector"},
    "map_tt_unit": {"zh": "单位", "en": "Unit"},
    "map_kind_stock": {"zh": "存量", "en": "stock"},
    "map_kind_flow": {"zh": "流量", "en": "flow"},
    "map_kind_aux": {"zh": "辅助变量", "en": "auxiliary"},
    "map_kind_constant": {"zh": "常量", "en": "constant"},
    "map_kind_lookup": {"zh": "表函数", "en": "lookup"},
    "map_kind_control": {"zh": "仿真控制", "en": "simulation control"},
    "map_kind_shadow": {"zh": "其他板块的变量", "en": "variable of another sector"},
    # the simulation's control variables, which every Vensim model has (not in
    # models/variable_names.csv: they are the run's settings, not the plan's model)
    "map_ctl_initial_time": {"zh": "初始时间", "en": "INITIAL TIME"},
    "map_ctl_final_time": {"zh": "终止时间", "en": "FINAL TIME"},
    "map_ctl_time_step": {"zh": "时间步长", "en": "TIME STEP"},
    "map_ctl_saveper": {"zh": "保存间隔", "en": "SAVEPER"},
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
    "save_author": {"zh": "作者(可选)", "en": "Author (optional)"},
    "save_note": {"zh": "备注(可选)", "en": "Note (optional)"},
    "save": {"zh": "保存到情景库", "en": "Save to the scenario library"},
    "saved_ok": {"zh": "已保存“{name}”。", "en": "Saved '{name}'."},
    "saved_not_compared": {"zh": "比较栏已有{n}个方案，新方案未加入比较(可在下方选择)。",
                           "en": "The comparison already holds {n} scenarios; the new one was "
                                 "not added (choose it below)."},
    "deleted_ok": {"zh": "已删除“{name}”。", "en": "Deleted '{name}'."},
    "library": {"zh": "情景库", "en": "Scenario library"},
    "library_help": {"zh": "保存在服务器的情景库中：重新加载页面或重启服务器后仍在，使用本服务器的所有人都能看到并打开。"
                           "只有保存它的会话可以删除它。链接 ?saved=编号 直接打开一个方案。",
                     "en": "Kept in the server's scenario library: they survive a reload and a "
                           "server restart, and everyone using this server can see and open "
                           "them. Only the session that saved a scenario can delete it. A link "
                           "?saved=ID opens one directly."},
    "library_count": {"zh": "情景库共{n}个方案(最多{max}个)。", "en": "{n} scenarios in the "
                      "library (at most {max})."},
    "library_unavailable": {"zh": "情景库暂不可用(已记入服务器日志)；其余功能照常。",
                            "en": "The scenario library is unavailable (logged on the server); "
                                  "everything else works."},
    "library_full": {"zh": "情景库已满({n}个方案)；请先删除一个自己保存的方案。",
                     "en": "The scenario library is full ({n} scenarios); delete one you saved "
                           "first."},
    "library_unknown": {"zh": "情景库中没有编号为 {id} 的方案(可能已被删除)。",
                        "en": "The library has no scenario with id {id} (it may have been "
                              "deleted)."},
    "library_damaged": {"zh": "已损坏，无法打开", "en": "damaged, cannot be opened"},
    "col_saved_name": {"zh": "方案名称", "en": "Scenario"},
    "col_author": {"zh": "作者", "en": "Author"},
    "col_saved_at": {"zh": "保存时间(UTC)", "en": "Saved (UTC)"},
    "col_note": {"zh": "备注", "en": "Note"},
    "col_reference": {"zh": "比较基准", "en": "Reference"},
    "col_id": {"zh": "编号", "en": "ID"},
    "compare_pick": {"zh": "要比较的方案(最多{n}个)", "en": "Scenarios to compare (at most {n})"},
    "choose_saved": {"zh": "从情景库中选择方案", "en": "Choose scenarios from the library"},
    "saved_prefix": {"zh": "情景库", "en": "library"},
    "anonymous": {"zh": "未署名", "en": "anonymous"},
    "load": {"zh": "载入", "en": "Load"},
    "delete": {"zh": "删除", "en": "Delete"},
    "nothing_saved": {"zh": "情景库中还没有方案。保存后可并排比较记分卡、叠加比较走势(当前设置始终列在最后)。",
                      "en": "No scenario in the library yet. Saved scenarios are compared side "
                            "by side and overlaid (the current settings are always shown last)."},
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
    # one-page brief (simulator/app/brief.py) and the settings under each slide
    "export_brief_pdf": {"zh": "一页纸简报(PDF)", "en": "One-page brief (PDF)"},
    "export_brief_docx": {"zh": "一页纸简报(Word)", "en": "One-page brief (Word)"},
    "brief_title": {"zh": "一页纸简报 · 广元市“十四五”科技创新和知识产权规划情景模拟",
                    "en": "One-page brief · Guangyuan 14th-FYP S&T innovation and IP plan "
                          "scenario simulator"},
    "brief_date": {"zh": "{year}年{month}月{day}日", "en": "{day} {month_name} {year}"},
    "brief_scenario": {"zh": "情景：{name}", "en": "Scenario: {name}"},
    "brief_reference": {"zh": "参照情景：{name}", "en": "Reference: {name}"},
    "brief_summary": {"zh": "目标达成 {met}/{total} · 翻番指标 {doubling_met}/{doubling_total} · "
                            "{late_year}年目标 {late_met}/{late_total}",
                      "en": "Targets met {met}/{total} · doubling {doubling_met}/{doubling_total} · "
                            "{late_year} goals {late_met}/{late_total}"},
    "brief_scorecard": {"zh": "目标记分卡(2025年与2035年)", "en": "Scorecard (2025 and 2035 targets)"},
    "brief_settings": {"zh": "设定(与2020年水平不同者)",
                       "en": "Settings (those away from the 2020 level)"},
    "brief_settings_none": {"zh": "全部杠杆与假设均为2020年水平。",
                            "en": "Every lever and assumption is at its 2020 level."},
    "brief_col_setting": {"zh": "杠杆或假设", "en": "Lever or assumption"},
    "brief_all_periods": {"zh": "2021–2035", "en": "2021–2035"},
    "brief_charts": {"zh": "关键指标走势(菱形为规划目标)",
                     "en": "Key indicators (diamonds: the plan's targets)"},
    "brief_budget": {"zh": "财政科技预算(亿元/年，规划期平均)",
                     "en": "S&T budget (100m yuan a year, period mean)"},
    "brief_caveat_title": {"zh": "模型说明", "en": "About the model"},
    "brief_caveat": {
        "zh": "本简报由系统动力学情景模型生成：存量—流量模型把研发投入、企业、专利和高新技术产业收入联系起来，"
              "从规划的2020年基数出发，按所设政策杠杆模拟至2035年，判断2025年和2035年目标能否实现。"
              "数据能识别的参数按2015–2020年数据校准，其余取文献或假设值；杠杆作用的强弱只有规划期的实际数据才能检验。"
              "结果表示模型结构的推演，用于比较情景，不是预测。",
        "en": "Made with a system-dynamics scenario model: a stock-and-flow model links R&D "
              "spending, enterprises, patents and high-tech revenue, runs from the plan's 2020 "
              "baselines to 2035 under the settings above and shows whether the 2025 and 2035 "
              "targets are reached. Parameters are calibrated to 2015–2020 data where the data "
              "identify them; the rest keep literature or assumed values; how strongly a lever "
              "works only data from the plan period can tell. Read results as what the structure "
              "implies, for comparing scenarios, not as forecasts."},
    "brief_made_by": {"zh": "广元科技创新规划情景模拟器生成 · app.py",
                      "en": "Made by the Guangyuan STI plan simulator · app.py"},
    "settings_footer": {"zh": "情景：{name} · 与2020年水平不同的设定：",
                        "en": "Scenario: {name} · settings away from the 2020 level: "},
    "settings_none": {"zh": "无(全部为2020年水平)", "en": "none (all at the 2020 level)"},
    "settings_more": {"zh": " 等，另有{n}项", "en": " … and {n} more"},
    # Excel column headers (code ids in the workbook's sheet "ids")
    "xl_scenario": {"zh": "情景", "en": "Scenario"},
    "xl_key": {"zh": "目标代码", "en": "Target id"},
    "xl_indicator": {"zh": "指标代码", "en": "Indicator id"},
    "xl_variable": {"zh": "指标代码", "en": "Indicator id"},
    "xl_year": {"zh": "目标年份", "en": "Target year"},
    "xl_time": {"zh": "年份", "en": "Year"},
    "xl_kind": {"zh": "类型", "en": "Kind"},
    "xl_comparison": {"zh": "比较", "en": "Comparison"},
    "xl_target": {"zh": "目标值(按该行单位)", "en": "Target (in the row's unit)"},
    "xl_value": {"zh": "模拟值(按该行单位)", "en": "Simulated value (in the row's unit)"},
    "xl_met": {"zh": "是否达成", "en": "Met"},
    "xl_margin": {"zh": "差距(按该行单位)", "en": "Margin (in the row's unit)"},
    "xl_first_year_met": {"zh": "首次达成年份", "en": "First year met"},
    "xl_unit": {"zh": "单位", "en": "Unit"},
    "xl_name_zh": {"zh": "名称(中文)", "en": "Name (Chinese)"},
    "xl_name_en": {"zh": "名称(英文)", "en": "Name (English)"},
    "xl_doubling": {"zh": "翻番指标", "en": "Doubling target"},
    "xl_plan_clause": {"zh": "规划条款", "en": "Plan clause"},
    "xl_actual_value": {"zh": "最新实际值(按该行单位)", "en": "Latest actual (in the row's unit)"},
    "xl_actual_year": {"zh": "实际值年份", "en": "Year of the actual"},
    "xl_actual_kind": {"zh": "实际值类型", "en": "Kind of actual"},
    "xl_base_2020": {"zh": "2020年基数(按该行单位)", "en": "2020 base (in the row's unit)"},
    "xl_progress_pct": {"zh": "完成进度(%)", "en": "Progress (%)"},
    "xl_progress_relation": {"zh": "完成进度口径", "en": "Progress measured as"},
    "xl_time_progress_pct": {"zh": "时间进度(%)", "en": "Time elapsed (%)"},
    "xl_id": {"zh": "代码", "en": "Id"},
    "xl_unit_zh": {"zh": "单位(中文)", "en": "Unit (Chinese)"},
    "xl_unit_en": {"zh": "单位(英文)", "en": "Unit (English)"},
    "xl_default_2020": {"zh": "2020年水平(按该行单位)", "en": "2020 level (in the row's unit)"},
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
    "col_progress": {"zh": "完成进度", "en": "Progress"},
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
    "recal_summary": {"zh": "已按项目数据和截至{up_to}年的{n}条实际值重新校准(情景“{scenario}”)：{moved}",
                      "en": "Recalibrated to the project's data and {n} actuals up to {up_to} "
                            "(scenario '{scenario}'): {moved}"},
    "recal_was": {"zh": "(原为 {value})", "en": " (was {value})"},
    "recal_none": {"zh": "没有可由这些数据识别的常数", "en": "no constant identified"},
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
    # the result's one line (simulator.app.analyses.milestones_message), from its data
    "ms_met": {"zh": "2035年目标可以达成：{goals}，{how}；2026–2035年成本最低的路径平均每年比2020年水平多支出 "
                     "{cost} 万元。",
               "en": "2035 goals met ({goals}){how}; lowest-cost path 2026–2035 at {cost} 万元 "
                     "(10,000 yuan) a year above the 2020 levels on average."},
    "ms_how_central": {"zh": "按确定性模拟(中心运行)", "en": " in the central run"},
    "ms_how_p": {"zh": "每个目标在{n}次抽样中的达成概率不低于{p}",
                 "en": ", each with probability ≥ {p} over {n} draws"},
    "ms_out": {"zh": "从情景“{name}”出发(2021–2025年按已实施)，2035年目标无法达成：约束最紧的目标为"
                     "{goal} {symbol} {target}{unit}；2026–2035年所有杠杆取最大值也只达到 {value}{unit}{how}。",
               "en": "2035 goals out of reach from scenario '{name}' (2021–2025 as enacted): "
                     "binding goal {goal} {symbol} {target}{unit}; every lever at its maximum in "
                     "2026–2035 reaches {value}{unit}{how}."},
    "ms_out_p": {"zh": "(中心运行)，在{share}%的抽样中达成(要求{needed}%)",
                 "en": " in the central run and meets it in {share} % of draws (needed "
                       "{needed} %)"},
    "ms_out_others": {"zh": "其他目标在杠杆最大值时：{others}。", "en": "Other goals at the maxima: "
                      "{others}."},
}


def ui(key: str, lang: str, **fmt: Any) -> str:
    """The interface string ``key`` in ``lang``, formatted with ``fmt``."""
    text = UI_STRINGS[key][lang if lang in LANGS else DEFAULT_LANG]
    return text.format(**fmt) if fmt else text


#: The short message shown, in both languages, when the page itself fails (the traceback goes
#: to the server's log, never to the visitor).
CRASH_MESSAGE = f"{UI_STRINGS['crashed']['zh']}  \n{UI_STRINGS['crashed']['en']}"


#: What a validation message quotes (the file's own text, ids, values), kept as it is when
#: the message is rendered in Chinese: quoted excerpts, lists and mappings, code points with
#: their Unicode names.
_KEEP = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|\[[^\[\]]*\]|\{[^{}]*\}"
                   r"|U\+[0-9A-F]{4,6} \([A-Z0-9 -]+\)")
_V = r"(\x00\d+\x00|\S+?)"  # a kept excerpt or a bare value
_VALUE = r"(?:(?<=: )|^)value "  # the word of a message ("…: value 'x' is…"), not a column
#: The validation's English phrases (simulator.plan.scenario, simulator.base.inputs, the
#: link's, the actuals') and their Chinese, in the order applied.
_DETAIL_ZH: tuple[tuple[str, str], ...] = (
    (r"^link: ", "链接："),
    # the scenario library's (simulator.app.library)
    (rf"saved scenario {_V} is damaged", r"已保存的方案 \1 已损坏"),
    (rf"no saved scenario has id {_V}", r"没有编号为 \1 的已保存方案"),
    (rf"id {_V} is not the id of a saved scenario; allowed 12 characters A-Z, a-z, 0-9, "
     r"(\x00\d+\x00), (\x00\d+\x00)", r"编号 \1 不是已保存方案的编号；只允许12个字符 A-Z、a-z、0-9、\2、\3"),
    (r"cannot be opened: the scenario library is unavailable on this server",
     "无法打开：本服务器的方案库不可用"),
    (r"its YAML names another scenario than its row", "其YAML记录的方案与该行不符"),
    (r"is not a date; allowed YYYY-MM-DDTHH:MM:SSZ \(UTC\)", "不是日期；允许 YYYY-MM-DDTHH:MM:SSZ(UTC)"),
    (rf"scenario {_V} was saved by another session; only the session that saved it can delete "
     r"it", r"方案 \1 由另一会话保存；只有保存它的会话可以删除"),
    (r"(?<![\w])library: ", "方案库："),
    # the YAML reader's (simulator.base.inputs): before the generic phrases below
    (r"alias (\S+) is not allowed \(files hold plain data: write the value out\)",
     r"不允许使用别名 \1(文件只含普通数据：请写出值本身)"),
    (r"tag (\x00\d+\x00|\S+) is not allowed \(files hold plain values; only !!str may be written\)",
     r"不允许标签 \1(文件只含普通值；只可写 !!str)"),
    (r"tag (\x00\d+\x00|\S+) is not allowed \(files hold plain values\)",
     r"不允许标签 \1(文件只含普通值)"),
    (r"merge keys \(<<\) are not allowed; write the fields out in full",
     "不允许合并键(<<)；请完整写出各字段"),
    (r"is true or false in YAML 1\.1 but text in YAML 1\.2; write true or false, or quote it if "
     r"it is text", "在YAML 1.1中是布尔值、在YAML 1.2中是文本；请写 true 或 false，若是文本请加引号"),
    (r"has a leading zero \(YAML 1\.1 reads it as (?:octal, )?(\S+); YAML 1\.2 as (\S+)\); "
     r"write (\S+), or quote it if it is text",
     r"有前导零(YAML 1.1读作 \1，YAML 1.2读作 \2)；请写 \3，若是文本请加引号"),
    (r"is (?:a hexadecimal|an octal|a binary) number \((\S+)\); write it in plain decimal "
     r"\((\S+)\), or quote it if it is text", r"是非十进制数(\1)；请写十进制数 \2，若是文本请加引号"),
    (r"is not a valid (\S+) number; write numbers in plain decimal", r"不是有效的数；请写十进制数"),
    (r"is a base-60 number in YAML 1\.1 \((\S+)\) and text in YAML 1\.2; write the number in "
     r"plain decimal, or quote it if it is text \(such as a time\)",
     r"在YAML 1.1中是六十进制数(\1)、在YAML 1.2中是文本；请写十进制数，若是文本(如时间)请加引号"),
    (r"has digit separators \(YAML 1\.1 reads it as a number, YAML 1\.2 as text\); write (\S+), "
     r"or quote it if it is text", r"含数字分隔符(YAML 1.1读作数，YAML 1.2读作文本)；请写 \1，若是文本请加引号"),
    # YAML syntax errors: the problem line of libyaml (the C parser the reader uses when
    # installed) and of PyYAML's Python parser; the quoted characters are kept as they are
    (r"mapping values are not allowed (?:here|in this context)", "此处不能出现映射值(检查冒号和缩进)"),
    (r"mapping keys are not allowed (?:here|in this context)", "此处不能出现映射键(检查缩进)"),
    (r"(?:block )?sequence entries are not allowed (?:here|in this context)",
     "此处不能出现列表项(检查“-”和缩进)"),
    (r"(?:could|did) not find (?:the )?expected (\x00\d+\x00) or (\x00\d+\x00)",
     r"找不到应有的 \1 或 \2(检查括号是否成对)"),
    (r"(?:could|did) not find (?:the )?expected (\x00\d+\x00) indicator",
     r"找不到应有的 \1(检查列表的缩进)"),
    (r"(?:could|did) not find (?:the )?expected (\x00\d+\x00)", r"找不到应有的 \1"),
    (r"did not find expected key", "找不到应有的键(检查缩进是否一致)"),
    (r"did not find expected node content", "找不到应有的值"),
    (r"did not find expected <document start>", "文件内容应已结束(检查多余的括号或缩进)"),
    (r"did not find expected alphabetic or numeric character", "此处应为字母或数字"),
    (r"did not find expected comment or line break", "此处应为注释或换行"),
    (r"did not find expected whitespace or line break", "此处应为空格或换行"),
    (r"did not find expected hexdecimal number", "此处应为十六进制数"),
    (r"expected (\x00\d+\x00) or (\x00\d+\x00), but got (.*)$",
     r"找不到应有的 \1 或 \2(此处为 \3；检查括号是否成对)"),
    (r"expected (?:the node content|a mapping node|a scalar node|a sequence node), but found (.*)$",
     r"找不到应有的值(此处为 \1)"),
    (r"expected alphabetic or numeric character, but found (.*)$", r"此处应为字母或数字(出现 \1)"),
    (r"expected a comment or a line break, but found (.*)$", r"此处应为注释或换行(出现 \1)"),
    (r"expected (\x00\d+\x00), but found (.*)$", r"此处应为 \1(出现 \2)"),
    (r"found character (\x00\d+\x00) that cannot start any token", r"字符 \1 不能出现在此处"),
    (r"found character that cannot start any token",
     "此处的字符不能开始一个值(如 @、`、% 或缩进中的制表符)"),
    (r"found unexpected end of stream", "文件意外结束(检查引号或括号是否闭合)"),
    (r"found unknown escape character(?: (\x00\d+\x00))?", r"未知的转义字符 \1"),
    (r"found undefined tag handle(?: (\x00\d+\x00))?", r"未定义的标签前缀 \1"),
    (r"found undefined alias(?: (\x00\d+\x00))?", r"别名未定义 \1"),
    (r"found unknown directive name", "未知的指令名"),
    (r"found duplicate %YAML directive", "重复的 %YAML 指令"),
    (r"found an indentation indicator equal to 0", "缩进指示符不能为0"),
    (r"found a tab character (?:that violates? indentation|where an indentation space is "
     r"expected)", "缩进中不能使用制表符"),
    (r"unacceptable character (#x[0-9A-Fa-f]+): (?:control|special) characters are not allowed",
     r"不可接受的字符 \1：不允许控制字符"),
    (r"expected <block end>, but found (.*)$", r"缩进不一致(此处出现 \1)"),
    # the project's own YAML reader's (simulator.base.inputs)
    (r"a second YAML document \(---\); a file holds one", "第二个YAML文档(---)；一个文件只能有一个文档"),
    (r"a mapping key must be a name or number, not a list", "映射的键必须是名称或数，不能是列表"),
    (r"a mapping key must be a name or number, not a mapping", "映射的键必须是名称或数，不能是映射"),
    (r"the file is empty; a scenario needs at least ", "文件为空；情景文件至少需要字段 "),
    (r"the file is empty; expected ", "文件为空；应为"),
    (r"field (\x00\d+\x00) is missing; a scenario needs a name", r"缺少字段 \1；情景文件需要名称"),
    (r"field (\x00\d+\x00)", r"字段 \1"),
    (r"unknown field", "未知字段"), (r"unknown lever", "未知杠杆"),
    (r"unknown assumption", "未知假设"), (r"unknown parameter", "未知参数"),
    (rf"period {_V} is unknown", r"规划期 \1 未知"),
    (rf"item {_V} is unknown", r"其中 \1 未知"), (rf"item {_V} is repeated", r"其中 \1 重复"),
    (rf"{_VALUE}{_V} has ([\d,]+) items", r"值 \1 有\2项"),
    (rf"{_VALUE}{_V} has ([\d,]+) characters", r"值 \1 有\2个字符"),
    (rf"{_VALUE}{_V} repeats (.+?) of row (\d+)", r"值 \1 与第\3行的 \2 重复"),
    (rf"{_VALUE}{_V} is outside the years allowed for (\S+?)(?=;)", r"值 \1 不在 \2 允许的年份内"),
    (rf"{_VALUE}{_V} is outside the plausible band of (\S+?)(?=;| \()", r"值 \1 超出 \2 的合理区间"),
    (rf"{_VALUE}{_V} ", r"值 \1 "),
    (r"has ([\d,]+) items; at most ([\d,]+) allowed", r"有\1项；最多允许\2项"),
    (r"is not a number, or one per plan period separated by commas",
     "不是一个数，也不是以逗号分隔、每个规划期一个的数"),
    (r"is not a finite number", "不是有限的数"), (r"is not a number", "不是数"),
    (r"is out of range", "超出范围"), (r"is not a mapping", "不是映射"),
    (r"is not text", "不是文本"), (r"is not an indicator id", "不是指标代码"),
    (r"is not known", "未知"), (r"is not allowed", "不允许"), (r"is unknown", "未知"),
    (r"is empty", "为空"),
    (r"allowed a number from (\S+) to (\S+)", r"允许 \1 至 \2 的数"),
    (r"allowed a number or one per period \((.*?)\)", r"允许一个数，或每个规划期一个数(\1)"),
    (r"allowed 1-(\d+) characters without commas, quotes or line breaks",
     r"允许1–\1个字符，不含逗号、引号或换行"),
    (r"allowed a mapping with fields ", "允许含以下字段的映射："),
    (r"allowed a mapping of lever ids to numbers or to per-period numbers",
     "允许杠杆代码到数(或每个规划期的数)的映射"),
    (r"allowed a mapping of assumption ids to numbers", "允许假设代码到数的映射"),
    (r"allowed a string", "允许文本"),
    (r"allowed a lever or assumption id, ", "允许杠杆或假设代码，或 "),
    (r"allowed ids separated by commas, from ", "允许以逗号分隔的代码，取自 "),
    (r"allowed each id once", "每个代码只允许出现一次"),
    (r"allowed one value per indicator, year and kind", "每个指标、年份和类型只允许一个值"),
    (r"allowed columns ", "允许的列 "),
    (r"allowed printable text \(tab and line breaks allowed\)", "允许可打印文本(可含制表符和换行)"),
    (r"allowed printable text on one line", "允许单行可打印文本"),
    (r", without control, bidirectional or zero-width characters",
     "，不含控制字符、双向控制字符或零宽字符"),
    (r"character (\x00\d+\x00) at position (\d+)", r"第\2个字符 \1"),
    (r"file is ([\d,]+) bytes", r"文件为\1字节"),
    (r"text is ([\d,]+) bytes", r"文本为\1字节"),
    (r"at most ([\d,]+) allowed", r"最多允许\1"),
    (r"more than ([\d,]+) rows", r"超过\1行"),
    (r"not UTF-8 text \(byte (\d+)\)", r"不是UTF-8文本(第\1字节)"),
    (r"malformed YAML at line (\d+), column (\d+)", r"YAML格式错误(第\1行第\2列)"),
    (r"malformed YAML", "YAML格式错误"),
    (r"line (\d+), column (\d+)", r"第\1行第\2列"),
    (r"(?<![\w])line (\d+)(?=:)", r"第\1行"),
    (r"duplicate key (\x00\d+\x00|\S+) \(line (\d+)\)", r"重复的键 \1(第\2行)"),
    (r"more than ([\d,]+) YAML nodes; a scenario file needs far fewer",
     r"YAML节点超过\1个；情景文件远用不了这么多"),
    (r"a value of ([\d,]+) characters", r"值有\1个字符"),
    (r"nested more than (\d+) levels deep; a scenario file needs 3",
     r"嵌套超过\1层；情景文件只需3层"),
    (r"([\d,]+) parameters; at most (\d+) are read \(the first ones\)",
     r"共\1个参数；最多读取前\2个"),
    (r"row (\d+)", r"第\1行"), (r"column (\d+) ", r"第\1列 "),
    (r"column (\x00\d+\x00) ", r"列 \1 "),
    (r"no rows after the header; expected at least one observation", "表头之后没有数据行；至少需要一条观测"),
    (r"has (\d+) fields; the header has (\d+)", r"有\1个字段；表头有\2个"),
    (r"missing column\(s\) ", "缺少列 "), (r"; required ", "；必需 "), (r"\(optional ", "(可选 "),
    (r"\(empty means level\)", "(留空即 level)"),
    (r"appears (\d+) times; each column at most once", r"出现\1次；每列最多一次"),
    (r"; allowed a number in (.+?), (\S+) to (\S+) ", r"；允许以 \1 计的数，\2 至 \3 "),
    (r"; allowed (\S+) to (\S+)", r"；允许 \1 至 \2"),
    (r"; allowed ", "；允许 "),
    (r"; ", "；"), (r": ", "："),
)


def detail(message: str, lang: str) -> str:
    """A validation message (one line, as the command line prints it) in the page's language.

    English returns it unchanged. Chinese renders its phrases in Chinese and keeps what it
    quotes exactly (file and field names, values, ids, code points): only the words around
    them change, so the detail the message gives is all kept. A phrase not in the table stays
    as it is (``tests/test_app_meeting.py`` checks the validation's messages leave none).
    """
    if lang == "en" or not message:
        return message
    kept: list[str] = []

    def hold(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = _KEEP.sub(hold, message)
    for pattern, replacement in _DETAIL_ZH:
        text = re.sub(pattern, replacement, text)
    text = _YAML_FALLBACK.sub(_yaml_fallback, text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


#: A YAML parser's problem the table above does not know (a libyaml or PyYAML release may word
#: a new one): after "YAML格式错误(第…行第…列)：", English words are replaced by a general
#: sentence; the line, column and quoted characters stay.
_YAML_FALLBACK = re.compile(r"(YAML格式错误(?:\(第\d+行第\d+列\))?：)([^；]*[A-Za-z][^；]*)")


def _yaml_fallback(match: re.Match) -> str:
    rest = match.group(2)
    if not re.search(r"[A-Za-z]", re.sub(r"\x00\d+\x00", "", rest)):
        return match.group(0)
    quoted = " ".join(re.findall(r"\x00\d+\x00", rest))
    return (match.group(1) + "语法错误(检查缩进、冒号、引号和括号)"
            + (f"：{quoted}" if quoted else ""))


#: Names of the model's uncertain constants (``models/uncertainty.yaml``) for the sensitivity
#: table and the recalibration line, in Chinese and English, by Python name;
#: ``tests/test_app_language.py`` checks that every constant of the file has one.
CONSTANT_NAMES: dict[str, tuple[str, str]] = {
    "rd_rate_of_return": ("研发收益率", "rate of return to R&D"),
    "max_innovation_premium": ("创新溢价上限", "maximum innovation premium"),
    "max_high_tech_share": ("高新产业占比上限", "maximum high-tech share"),
    "high_tech_premium_2020": ("2020年高新产业增速溢价", "high-tech growth premium, 2020"),
    "premium_knowledge_elasticity": ("增速溢价对知识存量的弹性", "premium elasticity to knowledge"),
    "premium_hte_elasticity": ("增速溢价对高企数的弹性", "premium elasticity to HTEs"),
    "revenue_per_new_hte": ("每家新认定高企带来的营收", "revenue per newly certified HTE"),
    "min_industry_ratio": ("规上工业营收与GDP之比下限", "minimum industry revenue / GDP"),
    "max_industry_ratio": ("规上工业营收与GDP之比上限", "maximum industry revenue / GDP"),
    "fiscal_expenditure_2020": ("2020年一般公共预算支出", "general public expenditure, 2020"),
    "high_tech_fiscal_yield": ("高新产业营收的地方财政贡献率", "local fiscal yield of high-tech revenue"),
    "enterprise_rd_share_2020": ("2020年企业研发占比", "enterprise share of R&D, 2020"),
    "fiscal_rd_share_2020": ("2020年财政研发占比", "fiscal share of R&D, 2020"),
    "fiscal_st_spending_2020": ("2020年财政科技支出", "fiscal S&T spending, 2020"),
    "max_fiscal_st_share": ("科技支出占财政支出比重上限", "maximum S&T share of fiscal spending"),
    "ht_rd_ratio": ("高新产业研发投入与营收之比", "high-tech R&D / revenue"),
    "enterprise_match_ratio": ("企业配套研发比例", "enterprise matching of co-funding"),
    "pledge_rd_share": ("质押贷款用于研发的比例", "share of pledge loans spent on R&D"),
    "loan_rd_share": ("科技贷款用于研发的比例", "share of tech loans spent on R&D"),
    "collateral_per_hv_patent": ("每件高价值专利支撑的质押融资", "pledge financing per high-value patent"),
    "pledge_collateral_elasticity": ("质押融资对高价值专利的弹性", "pledge lending elasticity to collateral"),
    "crowding_out_share": ("财政研发对企业研发的挤出比例", "crowding-out share of public R&D"),
    "max_rd_to_sales": ("研发与营收之比上限", "maximum R&D / sales"),
    "deduction_coverage": ("可享受加计扣除的研发比例", "coverage of the super-deduction"),
    "rd_price_elasticity": ("研发的税收价格弹性", "tax-price elasticity of R&D"),
    "rd_adjustment_time": ("研发调整时间", "R&D adjustment time"),
    "talent_elasticity": ("研发对人才的弹性", "R&D elasticity to talent"),
    "cooperation_saturation": ("产学研合作效应上限", "cooperation effect ceiling"),
    "cooperation_scale": ("产学研合作规模参数", "cooperation scale"),
    "min_other_st_share": ("科技预算中不可挤占的比例", "protected share of the S&T budget"),
    "rd_cost_per_fte_2020": ("2020年每个研发全时当量的经费", "R&D spending per FTE, 2020"),
    "rd_utilisation_2020": ("2020年研发人员利用率", "R&D workforce utilisation, 2020"),
    "graduate_entry_rate": ("毕业生进入研发的比率", "graduate entry rate"),
    "max_hiring_rate": ("研发人员最大增长率", "maximum hiring rate"),
    "hiring_adjustment_time": ("招聘调整时间", "hiring adjustment time"),
    "rd_attrition_rate": ("研发人员流失率", "R&D staff attrition rate"),
    "knowledge_per_joint_project": ("每个联合攻关项目的知识增量", "knowledge per joint project"),
    "knowledge_depreciation_rate": ("知识折旧率", "knowledge depreciation rate"),
    "pre_plan_rd_growth": ("规划前研发增速", "pre-plan R&D growth"),
    "invention_grants_2020": ("2020年发明专利授权量", "invention grants, 2020"),
    "patent_elasticity": ("专利对研发的弹性", "patent elasticity to R&D"),
    "talent_patent_elasticity": ("专利对人才的弹性", "patent elasticity to talent"),
    "ip_patenting_elasticity": ("专利申请对知识产权保护的弹性", "patenting elasticity to IP protection"),
    "patent_grant_lag": ("专利授权滞后", "patent grant lag"),
    "valid_invention_patents_2020": ("2020年有效发明专利量", "valid invention patents, 2020"),
    "ordinary_lapse_rate": ("普通专利失效率", "ordinary patent lapse rate"),
    "ip_maintenance_elasticity": ("专利维持对知识产权保护的弹性", "maintenance elasticity to IP protection"),
    "hv_share_2020": ("2020年高价值专利占比", "high-value share of grants, 2020"),
    "hv_upgrade_rate_2020": ("2020年专利升级为高价值的比率", "high-value upgrade rate, 2020"),
    "hv_cultivation_saturation": ("高价值专利培育效应上限", "cultivation effect ceiling"),
    "hv_cultivation_scale": ("高价值专利培育规模参数", "cultivation scale"),
    "hv_lapse_rate": ("高价值专利失效率", "high-value patent lapse rate"),
    "trademark_registrations_2020": ("2020年商标注册量", "trademark registrations, 2020"),
    "brand_saturation": ("品牌培育效应上限", "brand-building effect ceiling"),
    "brand_scale": ("品牌培育规模参数", "brand-building scale"),
    "trademark_lapse_rate": ("商标失效率", "trademark lapse rate"),
    "incubators_2020": ("2020年孵化器数量", "incubators, 2020"),
    "incubator_closure_rate": ("孵化器关闭率", "incubator closure rate"),
    "base_firm_formation": ("基础企业新设数", "base firm formation"),
    "firms_per_incubator": ("每个孵化器孵化的企业数", "firms per incubator"),
    "eligible_unregistered_firms_2020": ("2020年符合条件未备案企业数", "eligible unregistered firms, 2020"),
    "firm_exit_rate": ("企业退出率", "firm exit rate"),
    "registration_deduction_elasticity": ("备案对加计扣除的弹性", "registration elasticity to the deduction"),
    "spontaneous_registration_effort": ("自发备案力度", "spontaneous registration effort"),
    "registration_fraction_2020": ("2020年备案比率", "registration fraction, 2020"),
    "non_reregistration_rate": ("未重新备案率", "non-reregistration rate"),
    "candidate_dropout_rate": ("候选企业流失率", "candidate dropout rate"),
    "hte_registration_overlap": ("高企候选来自科技型中小企业的比例", "HTE candidates from the SME register"),
    "certification_pool_elasticity": ("认定对候选池的弹性", "certification elasticity to the pool"),
    "certification_rd_elasticity": ("认定对研发强度的弹性", "certification elasticity to R&D"),
    "max_certification_fraction": ("年认定比率上限", "maximum certification fraction"),
    "certification_fraction_2020": ("2020年高企认定比率", "HTE certification fraction, 2020"),
    "reward_saturation": ("高企奖补效应上限", "reward effect ceiling"),
    "reward_scale": ("高企奖补规模参数", "reward scale"),
    "certification_patent_elasticity": ("认定对专利的弹性", "certification elasticity to patents"),
    "renewal_success_2020": ("2020年高企复审通过率", "HTE renewal success, 2020"),
    "max_renewal_success": ("高企复审通过率上限", "maximum renewal success"),
    "hte_exit_rate": ("高企退出率", "HTE exit rate"),
    "platforms_per_hte": ("每家高企新建平台数", "platforms per HTE"),
    "platform_elimination_rate": ("平台考核淘汰率", "platform elimination rate"),
    "high_level_talent_2020": ("2020年高层次人才数", "high-level talent, 2020"),
    "talent_per_platform": ("每个平台引进的人才", "talent per platform"),
    "talent_attrition_rate": ("人才流失率", "talent attrition rate"),
    "tech_transfer_capacity_2020": ("2020年技术转移能力", "technology-transfer capacity, 2020"),
    "transfer_attrition_rate": ("技术转移人员流失率", "transfer staff attrition rate"),
    "contracts_signed_2020": ("2020年技术合同签订数", "technology contracts signed, 2020"),
    "negotiation_time": ("技术合同洽谈时间", "contract negotiation time"),
    "contract_success_share": ("洽谈成交比例", "contract success share"),
    "contract_value_elasticity": ("合同金额对知识存量的弹性", "contract value elasticity"),
    "contract_capacity_elasticity": ("合同对转移能力的弹性", "contract elasticity to capacity"),
    "contract_knowledge_elasticity": ("合同对知识存量的弹性", "contract elasticity to knowledge"),
    "commissioner_saturation": ("科技特派员效应上限", "commissioner effect ceiling"),
    "commissioner_scale": ("科技特派员规模参数", "commissioner scale"),
    "conversion_output_2020": ("2020年成果转化产值", "conversion output, 2020"),
    "max_conversion_share": ("成果转化产值占比上限", "maximum conversion share"),
    "base_conversion_growth": ("成果转化基础增速", "base conversion growth"),
    "conversion_capacity_elasticity": ("转化对转移能力的弹性", "conversion elasticity to capacity"),
    "conversion_knowledge_elasticity": ("转化对知识存量的弹性", "conversion elasticity to knowledge"),
    "demonstration_saturation": ("示范项目效应上限", "demonstration effect ceiling"),
    "demonstration_scale": ("示范项目规模参数", "demonstration scale"),
    "literacy_ceiling": ("科学素质比例上限", "science literacy ceiling"),
    "literacy_growth_rate_2020": ("2020年科学素质增长率", "science literacy growth, 2020"),
    "popularisation_saturation": ("科普效应上限", "popularisation effect ceiling"),
    "popularisation_scale": ("科普规模参数", "popularisation scale"),
    "weight_environment": ("创新环境权重", "weight: innovation environment"),
    "weight_input": ("创新投入权重", "weight: innovation input"),
    "weight_output": ("创新产出权重", "weight: innovation output"),
    "weight_industrialisation": ("高新产业化权重", "weight: high-tech industrialisation"),
    "weight_development": ("科技促进发展权重", "weight: S&T for development"),
    "policy_adjustment_time": ("政策见效时间", "policy adjustment time"),
}


def constant_name(param: str, lang: str) -> str:
    """A model constant's name in ``lang`` (:data:`CONSTANT_NAMES`); its Python name when it has
    none."""
    names = CONSTANT_NAMES.get(param)
    return param if names is None else names[0 if lang == "zh" else 1]


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


#: The sources of ``models/assumptions.csv`` (English there) in Chinese, by assumption id;
#: ``tests/test_app_language.py`` checks every assumption has one and the numbers agree.
ASSUMPTION_SOURCES_ZH: dict[str, str] = {
    "gdp_growth": "model.md；实际增速8.4 %(2018年)和4.2 %(2020年)",
    "industry_growth_gap": "假设(工业增速与GDP大致相当：6.0 %对6.5 %)",
    "population_growth": "观测：2010–2020年人口普查，−0.74 %/年",
    "innovation_environment": "定义(2020 = 1)",
    "inflation": "假设(2016–2020年GDP平减指数约2 %/年)",
}


def assumption_source(item: tables.Assumption, lang: str) -> str:
    """Where an assumption's default comes from, in ``lang`` (the table's English when no
    Chinese is written for it)."""
    return ASSUMPTION_SOURCES_ZH.get(item.id, item.source) if lang == "zh" else item.source


def assumption_help(item: tables.Assumption, lang: str) -> str:
    """Help text of a scenario assumption's slider: its source, unit and range."""
    return "\n\n".join([
        ui("help_source", lang, source=assumption_source(item, lang)),
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


#: Where Streamlit writes words of its own that no API sets (Streamlit 1.67's test ids): the
#: uploader's button and instructions, the size error on a refused file's chip (a screen
#: reader's line and the tooltip), and a text box's "Press Enter to apply".
_ST_UPLOAD_BUTTON = '[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p'
_ST_INSTRUCTIONS = '[data-testid="stFileUploaderDropzoneInstructions"] > div'
_ST_CHIP_ERROR = '[data-testid="stFileChip"] span[role="alert"]'
_ST_TOOLTIP_ERROR = '[data-testid="stTooltipErrorContent"]'
_ST_ENTER = '[data-testid="InputInstructions"] > span:first-child'
#: A table's or chart's hover toolbar: each button's tooltip is drawn away from it (in a layer
#: of its own), so the rule finds it through the hovered button, named by its English
#: ``aria-label`` ("Download as CSV" or "Download as CSV: <table>"), a key of
#: :data:`TOOLBAR_TOOLTIPS`.
_ST_TOOLBAR_TOOLTIP = ('body:has([data-testid="stElementToolbarButton"] '
                       'button[aria-label^="{label}"]:hover) [data-testid="stTooltipContent"]')
#: Streamlit 1.67's toolbar labels (``Toolbar``, ``DataFrame`` and ``ArrowVegaLiteChart`` in
#: its frontend) and their keys in :data:`UI_STRINGS`.
TOOLBAR_TOOLTIPS: dict[str, str] = {
    "Show/hide columns": "st_tb_columns", "Download as CSV": "st_tb_download",
    "Search": "st_tb_search", "Fullscreen": "st_tb_fullscreen",
    "Close fullscreen": "st_tb_close_fullscreen", "Clear selection": "st_tb_clear",
    "Show data": "st_tb_show_data", "Show chart": "st_tb_show_chart",
    "Download as PNG": "st_tb_png", "Download as SVG": "st_tb_svg",
    "Copy Vega-Lite spec": "st_tb_spec",
}


def _css_text(text: str) -> str:
    """``text`` as a CSS string's content (quotes, backslashes and ``<`` escaped)."""
    return "".join(f"\\{ord(c):x} " if c in '"\\<>\n' else c for c in text)


def _replace_text(selector: str, text: str, size: str = "14px", block: bool = False,
                  extra: str = "") -> str:
    """CSS rules that hide the text of ``selector`` (out of the page's visible text too:
    ``visibility: hidden``) and draw ``text`` in its place (with the declarations ``extra``)."""
    display = "display: block; " if block else ""
    return (f"{selector} {{visibility: hidden; font-size: 0 !important;}}\n"
            f'{selector}::after {{content: "{_css_text(text)}"; visibility: visible; '
            f"font-size: {size}; {display}line-height: 1.6;{extra}}}\n")


#: The tooltip's own box is hidden with its English text: its replacement draws one.
_TOOLTIP_BOX = (" display: block; background: #fff; color: #b3261e; padding: .35rem .65rem;"
                " border: 1px solid #e0b4b0; border-radius: .4rem;"
                " box-shadow: 0 2px 6px rgba(0, 0, 0, .15);")
_TOOLBAR_BOX = (" display: block; background: #fff; color: #31333f; padding: .25rem .6rem;"
                " border: 1px solid #d6d6d9; border-radius: .4rem; white-space: nowrap;"
                " box-shadow: 0 2px 6px rgba(0, 0, 0, .15);")


#: The words of a table's column menu in Streamlit 1.67 (its ⋮ on a column header: sort,
#: format, autosize, pin, hide, statistics) and their Chinese; see :func:`streamlit_menu_js`.
COLUMN_MENU_ZH: dict[str, str] = {
    "Sort ascending": "升序排列", "Sort descending": "降序排列", "Format": "数字格式",
    "Autosize": "自动列宽", "Pin column": "固定此列", "Unpin column": "取消固定",
    "Hide column": "隐藏此列", "Statistics": "统计", "Copy column name": "复制列名",
    "Dataframe column menu": "表格列菜单", "Visibility": "显示列", "Select all": "全选",
    "Automatic": "自动", "Localized": "本地格式", "Plain": "普通", "Percent": "百分比",
    "Scientific": "科学计数", "Accounting": "会计格式", "Compact": "紧凑", "Dollar": "美元",
    "Euro": "欧元", "Yen": "日元", "Count": "计数", "Distinct": "不同值", "Empty": "空值",
    "Minimum": "最小值", "Maximum": "最大值", "Average": "平均值", "Median": "中位数",
    "Sum": "合计", "Standard deviation": "标准差", "Range": "范围",
    "Average length": "平均长度", "Minimum length": "最短长度", "Maximum length": "最长长度",
    "Distribution histogram": "分布直方图", "Top values frequency chart": "常见值频数图",
    "Based on sample": "基于样本", "Values": "取值", "True": "是", "False": "否",
    "None": "无", "No data": "无数据",
}

#: Where the column menu's words are (Streamlit 1.67's element ids of its popovers).
_COLUMN_MENUS = ", ".join(f'[data-testid="{t}"]' for t in (
    "stDataFrameColumnMenu", "stDataFrameColumnFormattingMenu", "stDataFrameColumnVisibilityMenu",
    "stDataFrameStatisticsMenu", "stDataFrameStatisticsContent", "stDataFrameStatisticsMetrics"))

_MENU_JS = """<script>
(function () {
  window.__gyMenuWords = WORDS;
  if (window.__gyMenuObserver) { return; }
  const menus = MENUS;
  const swap = (root) => {
    const words = window.__gyMenuWords;
    if (!words || !root || !root.querySelectorAll) { return; }
    const boxes = root.matches && root.matches(menus) ? [root] : [];
    const inside = root.closest ? root.closest(menus) : null;
    if (inside) { boxes.push(inside); }
    boxes.push(...root.querySelectorAll(menus));
    for (const box of boxes) {
      const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const key = n.nodeValue.trim();
        if (key in words) { n.nodeValue = n.nodeValue.replace(key, words[key]); }
      }
      for (const el of [box, ...box.querySelectorAll("[aria-label]")]) {
        const label = el.getAttribute("aria-label");
        if (label in words) { el.setAttribute("aria-label", words[label]); }
      }
    }
  };
  window.__gyMenuObserver = new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === "characterData") { swap(r.target.parentElement); }
      for (const n of r.addedNodes) { swap(n.nodeType === 1 ? n : n.parentElement); }
    }
  });
  window.__gyMenuObserver.observe(document.body,
                                  {childList: true, subtree: true, characterData: true});
})();
</script>"""


def streamlit_menu_js(lang: str) -> str:
    """A ``<script>`` (for ``st.html(..., unsafe_allow_javascript=True)``) that puts the words
    of a table's column menu in ``lang``.

    The menu (the ⋮ of a column header: sort, format, pin, hide, statistics) is a popover
    Streamlit 1.67 draws when it is opened, with bare text CSS cannot replace. The script
    watches the page (one ``MutationObserver`` per page, installed once) and replaces, inside
    those popovers only (:data:`_COLUMN_MENUS`), each text and ``aria-label`` that is exactly
    an English word of :data:`COLUMN_MENU_ZH`. Each run of the script sets the words of the
    page's current language (none for English), so a language switch takes effect at the next
    menu. ``tests/e2e/test_browser.py`` opens a column menu in Chromium and fails on an English
    word, so an upgrade that renames the menu's parts shows.
    """
    words = COLUMN_MENU_ZH if lang == "zh" else {}
    return (_MENU_JS.replace("WORDS", json.dumps(words, ensure_ascii=False))
            .replace("MENUS", json.dumps(_COLUMN_MENUS)))


def streamlit_words_css(lang: str, uploaders: Mapping[str, str], limit: str = "1 MB",
                        streamlit_limit: str = "2 MB") -> str:
    """A ``<style>`` that puts Streamlit's own English words on the page in ``lang``.

    Streamlit has no setting for the words of its file uploader ("Upload", "Drag and drop
    file here", "Limit 200MB per file • CSV"), the error on a refused file ("File must be
    2.0MB or smaller."), a text box's "Press Enter to apply" or the tooltips of a table's
    toolbar ("Download as CSV", "Search", "Fullscreen" …; the buttons' ``aria-label`` stays
    English: CSS cannot change an attribute): the rules hide those texts
    (``visibility: hidden``, so they are out of the visible text) and draw the page's words in
    their place (``::after``). ``uploaders`` maps each uploader's widget key to the file
    types it takes; ``limit`` is what the app accepts (it refuses more itself, in words),
    ``streamlit_limit`` Streamlit's own (``server.maxUploadSize``), named in its refusal.
    English needs nothing: "" (Streamlit's own words are English).
    """
    if lang == "en" or lang not in LANGS:
        return ""
    rules = [_replace_text(_ST_UPLOAD_BUTTON, ui("st_browse", lang))]
    for key, types in uploaders.items():
        rules.append(_replace_text(f".st-key-{key} {_ST_INSTRUCTIONS}",
                                   ui("st_limit", lang, limit=limit, types=types), block=True))
    too_big = ui("st_too_big", lang, limit=streamlit_limit)
    rules.append(_replace_text(_ST_CHIP_ERROR, too_big))
    rules.append(_replace_text(_ST_TOOLTIP_ERROR, too_big, extra=_TOOLTIP_BOX))
    rules.append(_replace_text(_ST_ENTER, ui("st_enter", lang), size="12px"))
    for english, key in TOOLBAR_TOOLTIPS.items():
        rules.append(_replace_text(_ST_TOOLBAR_TOOLTIP.format(label=_css_text(english)),
                                   ui(key, lang), size="12px", extra=_TOOLBAR_BOX))
    return "<style>\n" + "".join(rules) + "</style>"
